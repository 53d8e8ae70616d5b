package io.consensusactors.bank.demo;

import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * The banking workload: opens (or reuses) accounts, runs deposits, withdrawals and transfers from concurrent
 * clients for a bounded time, then checks that money was conserved:
 * {@code total after = total before + successful deposits - successful withdrawals}, transfers moving money
 * between accounts only.
 *
 * <p>An operation whose outcome is unknown (node unreachable, timeout) is retried with the SAME request id, on
 * another node: the accounts apply a request id at most once, so retries never double-apply. Operations still
 * unknown at the end are retried until their outcome is known, so the check is exact.
 */
public final class Workload {

    /** Outcome of the run. */
    public record Summary(long operations, double opsPerSecond, long totalBefore, long totalAfter, long expectedAfter,
                          boolean conserved) {}

    private enum Kind { DEPOSIT, WITHDRAW, TRANSFER }

    private final List<BankClient> nodes;
    private final int accounts;
    private final long initialBalance;
    private final int clients;
    private final long seed;
    private final PrintStream out;

    private final Map<Kind, Histogram> latency = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
    private final AtomicLong expectedDelta = new AtomicLong();
    private final LongAdder completed = new LongAdder();
    private final LongAdder retries = new LongAdder();
    private final ConcurrentLinkedQueue<Runnable> unresolved = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> pendingTransfers = new ConcurrentLinkedQueue<>();

    public Workload(List<BankClient> nodes, int accounts, long initialBalance, int clients, long seed, PrintStream out) {
        this.nodes = nodes;
        this.accounts = accounts;
        this.initialBalance = initialBalance;
        this.clients = clients;
        this.seed = seed;
        this.out = out;
        for (Kind k : Kind.values()) {
            latency.put(k, new ConcurrentHistogram(3_600_000_000L, 3));
        }
    }

    static String account(int i) {
        return "acct-" + i;
    }

    public Summary run(Duration duration) throws InterruptedException {
        prepareAccounts();
        long before = total("before");
        String runId = Long.toString(System.currentTimeMillis(), 36);
        out.printf("Running the workload: %d clients for %d s (deposits, withdrawals, transfers)%n", clients,
                duration.toSeconds());
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int client = c;
            Thread t = new Thread(() -> clientLoop(client, runId, end), "client-" + c);
            t.start();
            threads.add(t);
        }
        long lastOps = 0;
        long lastT = start;
        while (System.nanoTime() < end) {
            Thread.sleep(Math.min(2000, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
            long now = System.nanoTime();
            long ops = completed.sum();
            out.printf("  [%3.0f s] %,d operations, %,.0f ops/s now, %d retried, %d rejected%n",
                    (now - start) / 1e9, ops, (ops - lastOps) / ((now - lastT) / 1e9), retries.sum(),
                    outcomes.entrySet().stream().filter(e -> e.getKey().startsWith("rejected"))
                            .mapToLong(e -> e.getValue().sum()).sum());
            lastOps = ops;
            lastT = now;
        }
        for (Thread t : threads) {
            t.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        resolveUnknownOutcomes();
        resolvePendingTransfers();
        long after = total("after");
        long expected = before + expectedDelta.get();
        long ops = completed.sum();
        printSummary(ops, seconds, before, after, expected);
        return new Summary(ops, ops / seconds, before, after, expected, after == expected);
    }

    private void prepareAccounts() {
        BankClient first = nodes.get(0);
        BankClient.Response probe = call(c -> c.balance(account(0)));
        if (probe.ok()) {
            int existing = 0;
            for (int i = 0; i < accounts; i++) {
                String id = account(i);
                if (call(c -> c.balance(id)).ok()) {
                    existing++;
                }
            }
            out.printf("Reusing %d accounts from a previous run (stored in H2)%n", existing);
            if (existing < accounts) {
                openAccounts();
            }
            return;
        }
        if (probe.status() != 404) {
            throw new IllegalStateException("cannot read account " + account(0) + " on " + first.hostPort() + ": "
                    + probe.status() + " " + probe.error());
        }
        openAccounts();
    }

    private void openAccounts() {
        out.printf("Opening %d accounts with %,d cents each%n", accounts, initialBalance);
        for (int i = 0; i < accounts; i++) {
            String id = account(i);
            BankClient.Response r = retry(c -> c.open(id, initialBalance, "open-" + id));
            if (!r.ok() && r.status() != 409) {
                throw new IllegalStateException("cannot open " + id + ": " + r.status() + " " + r.error());
            }
        }
    }

    private long total(String when) {
        long sum = 0;
        for (int i = 0; i < accounts; i++) {
            String id = account(i);
            BankClient.Response r = retry(c -> c.balance(id));
            if (!r.ok()) {
                throw new IllegalStateException("cannot read " + id + " " + when + " the workload: " + r.status()
                        + " " + r.error());
            }
            sum += r.balance();
        }
        out.printf("Total balance %s: %,d cents over %d accounts%n", when, sum, accounts);
        return sum;
    }

    private void clientLoop(int client, String runId, long end) {
        SplittableRandom random = new SplittableRandom(seed * 1_000_003L + client);
        long n = 0;
        while (System.nanoTime() < end) {
            String requestId = runId + "-" + client + "-" + (n++);
            double p = random.nextDouble();
            int a = random.nextInt(accounts);
            int b = (a + 1 + random.nextInt(accounts - 1)) % accounts;
            long amount = 1 + random.nextInt(p < 0.66 ? 100 : 200);
            long t0 = System.nanoTime();
            Kind kind = p < 0.33 ? Kind.DEPOSIT : p < 0.66 ? Kind.WITHDRAW : Kind.TRANSFER;
            Function<BankClient, BankClient.Response> op = switch (kind) {
                case DEPOSIT -> c -> c.deposit(account(a), amount, requestId);
                case WITHDRAW -> c -> c.withdraw(account(a), amount, requestId);
                case TRANSFER -> c -> c.transfer(requestId, account(a), account(b), amount);
            };
            BankClient.Response r = retry(op, client);
            latency.get(kind).recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
            completed.increment();
            record(kind, amount, r, requestId, op);
        }
    }

    private void record(Kind kind, long amount, BankClient.Response r, String requestId,
                        Function<BankClient, BankClient.Response> op) {
        if (r.retryable()) {
            count("unknown outcome (resolved at the end)");
            unresolved.add(() -> record(kind, amount, retryUntilKnown(op), requestId, op));
            return;
        }
        if (r.ok()) {
            switch (kind) {
                case DEPOSIT -> expectedDelta.addAndGet(amount);
                case WITHDRAW -> expectedDelta.addAndGet(-amount);
                case TRANSFER -> {
                    String status = r.body().path("status").asText();
                    if ("PENDING".equals(status)) {
                        pendingTransfers.add(requestId);
                    } else {
                        count("transfer " + status.toLowerCase());
                        return;
                    }
                }
            }
            count(kind.name().toLowerCase() + " ok");
        } else {
            count("rejected: " + kind.name().toLowerCase() + " " + r.body().path("reason").asText("HTTP " + r.status()));
        }
    }

    private void count(String outcome) {
        outcomes.computeIfAbsent(outcome, k -> new LongAdder()).increment();
    }

    private void resolveUnknownOutcomes() {
        if (!unresolved.isEmpty()) {
            out.printf("Resolving %d operations whose outcome was unknown (same request ids, applied at most once)%n",
                    unresolved.size());
        }
        Runnable r;
        while ((r = unresolved.poll()) != null) {
            r.run();
        }
    }

    private void resolvePendingTransfers() throws InterruptedException {
        if (pendingTransfers.isEmpty()) {
            return;
        }
        out.printf("Waiting for %d transfers still in flight to finish%n", pendingTransfers.size());
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!pendingTransfers.isEmpty() && System.nanoTime() < deadline) {
            String id = pendingTransfers.poll();
            BankClient.Response r = retry(c -> c.transferStatus(id));
            String status = r.body().path("status").asText();
            if (r.ok() && !"PENDING".equals(status)) {
                count("transfer " + status.toLowerCase());
            } else {
                pendingTransfers.add(id);
                Thread.sleep(100);
            }
        }
        if (!pendingTransfers.isEmpty()) {
            throw new IllegalStateException(pendingTransfers.size() + " transfers did not finish within 90 s");
        }
    }

    private BankClient.Response call(Function<BankClient, BankClient.Response> op) {
        return op.apply(nodes.get(0));
    }

    private BankClient.Response retry(Function<BankClient, BankClient.Response> op) {
        return retry(op, 0);
    }

    /** Up to 6 attempts, moving to the next node after an unknown outcome. */
    private BankClient.Response retry(Function<BankClient, BankClient.Response> op, int preferred) {
        BankClient.Response r = null;
        for (int attempt = 0; attempt < 6; attempt++) {
            r = op.apply(nodes.get((preferred + attempt) % nodes.size()));
            if (!r.retryable()) {
                return r;
            }
            retries.increment();
            sleep(200L * (attempt + 1));
        }
        return r;
    }

    private BankClient.Response retryUntilKnown(Function<BankClient, BankClient.Response> op) {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        BankClient.Response r;
        int i = 0;
        do {
            r = retry(op, i++);
        } while (r.retryable() && System.nanoTime() < deadline);
        if (r.retryable()) {
            throw new IllegalStateException("an operation's outcome is still unknown after 120 s: " + r.error());
        }
        return r;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void printSummary(long ops, double seconds, long before, long after, long expected) {
        out.println();
        out.println("=== Summary ===");
        out.printf("Operations: %,d in %.1f s = %,.0f ops/s (%d clients, %d nodes, %d retries)%n", ops, seconds,
                ops / seconds, clients, nodes.size(), retries.sum());
        outcomes.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> out.printf("  %-45s %,10d%n", e.getKey(), e.getValue().sum()));
        out.println("Latency per operation (ms), including retries:");
        out.printf("  %-9s %9s %8s %8s %8s %8s%n", "", "count", "p50", "p90", "p99", "max");
        for (Kind k : Kind.values()) {
            Histogram h = latency.get(k);
            out.printf("  %-9s %,9d %8.2f %8.2f %8.2f %8.2f%n", k.name().toLowerCase(), h.getTotalCount(),
                    h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(90) / 1000.0,
                    h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0);
        }
        out.printf("Total balance before: %,d  after: %,d  expected: %,d (before + deposits - withdrawals)%n",
                before, after, expected);
        out.println(after == expected ? "Money CONSERVED." : "Money VIOLATED: difference " + (after - expected));
    }
}
