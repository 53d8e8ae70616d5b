package io.consensusactors.bank.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.consensusactors.bank.account.AccountReply;
import io.consensusactors.bank.node.AccountService;
import io.consensusactors.bank.node.Membership;
import io.consensusactors.bank.transfer.TransferStatus;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The bank's JSON API. Amounts are whole minor units (cents). Every mutating request may carry a
 * {@code requestId}; retrying with the same id is safe (applied at most once).
 */
public final class BankRoutes extends AllDirectives {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");

    private final AccountService service;
    private final AtomicReference<Membership.View> membership;
    private final String nodeName;

    public BankRoutes(AccountService service, AtomicReference<Membership.View> membership, String nodeName) {
        this.service = service;
        this.membership = membership;
        this.nodeName = nodeName;
    }

    public Route routes() {
        return concat(
                path("health", () -> get(this::health)),
                path(PathMatchers.segment("cluster").slash("members"), () -> get(this::members)),
                pathPrefix("accounts", () -> pathPrefix(PathMatchers.segment(), id -> concat(
                        pathEnd(() -> concat(
                                post(() -> withBody(body -> open(id, body))),
                                get(() -> reply(id, () -> service.balance(id))))),
                        path("deposit", () -> post(() -> withBody(body -> change(id, body, true)))),
                        path("withdraw", () -> post(() -> withBody(body -> change(id, body, false))))))),
                pathPrefix("transfers", () -> concat(
                        pathEnd(() -> post(() -> withBody(this::transfer))),
                        path(PathMatchers.segment(), id -> get(() -> transferReply(id,
                                () -> service.transferStatus(id)))))));
    }

    // --- handlers --------------------------------------------------------------------------------------------
    private Route health() {
        Membership.View v = membership.get();
        boolean up = v != null && v.selfUp();
        ObjectNode body = JSON.createObjectNode().put("status", up ? "ok" : "starting").put("node", nodeName);
        return json(up ? StatusCodes.OK : StatusCodes.SERVICE_UNAVAILABLE, body);
    }

    private Route members() {
        Membership.View v = membership.get();
        ObjectNode body = JSON.createObjectNode();
        body.put("self", v == null ? "" : v.self());
        var arr = body.putArray("members");
        var unreachable = body.putArray("unreachable");
        if (v != null) {
            v.members().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey()).forEach(e -> {
                ObjectNode m = arr.addObject().put("address", e.getKey()).put("status", e.getValue());
                var roles = m.putArray("roles");
                v.roles().getOrDefault(e.getKey(), java.util.Set.of()).forEach(roles::add);
            });
            v.unreachable().stream().sorted().forEach(unreachable::add);
        }
        return json(StatusCodes.OK, body);
    }

    private Route open(String id, JsonNode body) {
        if (!ID.matcher(id).matches()) {
            return badId(id);
        }
        Long initial = longField(body, "initialBalance", true);
        if (initial == null) {
            return error(StatusCodes.BAD_REQUEST, "field 'initialBalance' must be a whole number of cents (>= 0)");
        }
        String requestId = textField(body, "requestId", UUID.randomUUID().toString());
        return reply(id, () -> service.open(id, initial, requestId), StatusCodes.CREATED);
    }

    private Route change(String id, JsonNode body, boolean deposit) {
        if (!ID.matcher(id).matches()) {
            return badId(id);
        }
        Long amount = longField(body, "amount", false);
        if (amount == null) {
            return error(StatusCodes.BAD_REQUEST, "field 'amount' is required and must be a whole number of cents");
        }
        String requestId = textField(body, "requestId", UUID.randomUUID().toString());
        return reply(id, () -> deposit ? service.deposit(id, amount, requestId)
                : service.withdraw(id, amount, requestId));
    }

    private Route transfer(JsonNode body) {
        String from = textField(body, "from", null);
        String to = textField(body, "to", null);
        Long amount = longField(body, "amount", false);
        if (from == null || to == null || amount == null) {
            return error(StatusCodes.BAD_REQUEST,
                    "a transfer needs 'from' and 'to' (account ids) and 'amount' (whole cents), and may carry "
                            + "'transferId' (retry-safe)");
        }
        if (!ID.matcher(from).matches() || !ID.matcher(to).matches()) {
            return badId(ID.matcher(from).matches() ? to : from);
        }
        if (amount <= 0) {
            return error(StatusCodes.BAD_REQUEST, "'amount' must be a positive number of cents, was " + amount);
        }
        if (from.equals(to)) {
            return error(StatusCodes.BAD_REQUEST, "'from' and 'to' must be different accounts");
        }
        String transferId = textField(body, "transferId", UUID.randomUUID().toString());
        if (!ID.matcher(transferId).matches()) {
            return badId(transferId);
        }
        return transferReply(transferId, () -> service.transfer(transferId, from, to, amount));
    }

    // --- plumbing --------------------------------------------------------------------------------------------
    private Route withBody(java.util.function.Function<JsonNode, Route> inner) {
        return entity(Unmarshaller.entityToString(), text -> {
            JsonNode node;
            try {
                node = text.isBlank() ? JSON.createObjectNode() : JSON.readTree(text);
            } catch (JsonProcessingException e) {
                return error(StatusCodes.BAD_REQUEST, "malformed JSON body: " + e.getOriginalMessage()
                        + " (send a JSON object such as {\"amount\": 100})");
            }
            if (!node.isObject()) {
                return error(StatusCodes.BAD_REQUEST, "the body must be a JSON object such as {\"amount\": 100}");
            }
            return inner.apply(node);
        });
    }

    private Route reply(String id, Supplier<CompletionStage<AccountReply>> call) {
        return reply(id, call, StatusCodes.OK);
    }

    private Route reply(String id, Supplier<CompletionStage<AccountReply>> call, StatusCode okStatus) {
        if (!ID.matcher(id).matches()) {
            return badId(id);
        }
        return completeWithFuture(call.get().handle((r, err) -> {
            if (err != null) {
                return failure(err);
            }
            if (r instanceof AccountReply.Balance b) {
                return response(okStatus, JSON.createObjectNode().put("id", b.accountId()).put("balance", b.balance()));
            }
            if (r instanceof AccountReply.Details d) {
                ObjectNode body = JSON.createObjectNode().put("id", d.accountId()).put("balance", d.balance())
                        .put("available", d.available());
                var holds = body.putArray("holds");
                d.holds().forEach(h -> holds.addObject().put("transferId", h.txId()).put("amount", h.amount())
                        .put("role", h.role()));
                return response(okStatus, body);
            }
            if (!(r instanceof AccountReply.Rejected)) {
                return response(StatusCodes.INTERNAL_SERVER_ERROR,
                        JSON.createObjectNode().put("error", "unexpected answer " + r));
            }
            AccountReply.Rejected rej = (AccountReply.Rejected) r;
            StatusCode code = switch (rej.reason()) {
                case UNKNOWN_ACCOUNT -> StatusCodes.NOT_FOUND;
                case INVALID_AMOUNT -> StatusCodes.BAD_REQUEST;
                case INSUFFICIENT_FUNDS, ALREADY_OPEN, TRANSACTION_FINISHED, NO_HOLD -> StatusCodes.CONFLICT;
            };
            return response(code, JSON.createObjectNode().put("error", rej.message()).put("reason", rej.reason().name()));
        }));
    }

    private Route transferReply(String id, Supplier<CompletionStage<TransferStatus>> call) {
        return completeWithFuture(call.get().handle((s, err) -> {
            if (err != null) {
                return failure(err);
            }
            ObjectNode body = JSON.createObjectNode().put("transferId", s.transferId())
                    .put("status", s.phase() == TransferStatus.Phase.UNKNOWN ? "UNKNOWN"
                            : s.phase().isFinal() ? s.phase().name() : "PENDING")
                    .put("phase", s.phase().name()).put("from", s.from()).put("to", s.to()).put("amount", s.amount());
            if (s.reason() != null) {
                body.put("reason", s.reason());
            }
            StatusCode code = s.phase() == TransferStatus.Phase.UNKNOWN ? StatusCodes.NOT_FOUND
                    : s.phase().isFinal() ? StatusCodes.OK : StatusCodes.ACCEPTED;
            return response(code, body);
        }));
    }

    private static HttpResponse failure(Throwable err) {
        Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        if (cause instanceof TimeoutException) {
            return response(StatusCodes.SERVICE_UNAVAILABLE, JSON.createObjectNode().put("error",
                    "no answer in time (the entity may be moving after a node failure): retry with the same "
                            + "requestId/transferId, it is applied at most once"));
        }
        return response(StatusCodes.INTERNAL_SERVER_ERROR, JSON.createObjectNode().put("error",
                "internal error: " + cause.getClass().getSimpleName() + ": " + cause.getMessage()));
    }

    private Route badId(String id) {
        return error(StatusCodes.BAD_REQUEST, "invalid id '" + id + "': use 1-64 letters, digits, '_', '-', '.', ':'");
    }

    private Route error(StatusCode code, String message) {
        return json(code, JSON.createObjectNode().put("error", message));
    }

    private Route json(StatusCode code, JsonNode body) {
        return complete(response(code, body));
    }

    private static HttpResponse response(StatusCode code, JsonNode body) {
        return HttpResponse.create().withStatus(code).withEntity(ContentTypes.APPLICATION_JSON, body.toString());
    }

    private static Long longField(JsonNode body, String name, boolean defaultZero) {
        JsonNode n = body.get(name);
        if (n == null || n.isNull()) {
            return defaultZero ? 0L : null;
        }
        return n.isIntegralNumber() && n.canConvertToLong() ? n.asLong() : null;
    }

    private static String textField(JsonNode body, String name, String dflt) {
        JsonNode n = body.get(name);
        return n != null && n.isTextual() && !n.asText().isBlank() ? n.asText() : dflt;
    }
}
