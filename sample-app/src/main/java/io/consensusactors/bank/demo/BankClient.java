package io.consensusactors.bank.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A small blocking client of one bank node's JSON API (used by {@code bank demo} and the multi-JVM tests).
 * Network failures come back as status 0 with the error message, never as exceptions.
 */
public final class BankClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** An HTTP answer: status (0 when the node could not be reached) and JSON body. */
    public record Response(int status, JsonNode body) {
        public boolean ok() {
            return status >= 200 && status < 300;
        }

        /** True when the outcome is unknown (unreachable, timeout, 5xx): retry with the same request id. */
        public boolean retryable() {
            return status == 0 || status >= 500;
        }

        public long balance() {
            return body.path("balance").asLong();
        }

        public String error() {
            return body.path("error").asText("");
        }
    }

    private final HttpClient http;
    private final String base;
    private final Duration timeout;

    public BankClient(String hostPort, Duration timeout) {
        this(HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build(), hostPort, timeout);
    }

    public BankClient(HttpClient http, String hostPort, Duration timeout) {
        this.http = http;
        this.base = "http://" + hostPort;
        this.timeout = timeout;
    }

    public String hostPort() {
        return base.substring("http://".length());
    }

    public Response health() {
        return call("GET", "/health", null);
    }

    public Response members() {
        return call("GET", "/cluster/members", null);
    }

    public Response open(String id, long initialBalance, String requestId) {
        return call("POST", "/accounts/" + id, obj().put("initialBalance", initialBalance).put("requestId", requestId));
    }

    public Response balance(String id) {
        return call("GET", "/accounts/" + id, null);
    }

    public Response deposit(String id, long amount, String requestId) {
        return call("POST", "/accounts/" + id + "/deposit", obj().put("amount", amount).put("requestId", requestId));
    }

    public Response withdraw(String id, long amount, String requestId) {
        return call("POST", "/accounts/" + id + "/withdraw", obj().put("amount", amount).put("requestId", requestId));
    }

    public Response transfer(String transferId, String from, String to, long amount) {
        return call("POST", "/transfers", obj().put("transferId", transferId).put("from", from).put("to", to)
                .put("amount", amount));
    }

    public Response transferStatus(String transferId) {
        return call("GET", "/transfers/" + transferId, null);
    }

    /** Number of members with status Up that this node sees (0 if unreachable). */
    public int upMembers() {
        Response r = members();
        int up = 0;
        if (r.ok()) {
            for (JsonNode m : r.body().path("members")) {
                if ("Up".equals(m.path("status").asText())) {
                    up++;
                }
            }
        }
        return up;
    }

    public Response call(String method, String path, JsonNode body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout)
                .header("Content-Type", "application/json");
        b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.method(method, HttpRequest.BodyPublishers.ofString(body.toString()));
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode json;
            try {
                json = r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body());
            } catch (IOException e) {
                json = JSON.createObjectNode().put("error", r.body());
            }
            return new Response(r.statusCode(), json);
        } catch (IOException e) {
            return new Response(0, JSON.createObjectNode().put("error", e.toString()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Response(0, JSON.createObjectNode().put("error", "interrupted"));
        }
    }

    private static ObjectNode obj() {
        return JSON.createObjectNode();
    }
}
