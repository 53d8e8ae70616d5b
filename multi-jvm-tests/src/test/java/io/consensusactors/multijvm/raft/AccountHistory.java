package io.consensusactors.multijvm.raft;

import io.consensusactors.entity.EntityRef;
import io.consensusactors.entity.EntityRejectedException;
import io.consensusactors.entity.TestAccount;
import io.consensusactors.raft.core.ReadConsistency;
import io.consensusactors.testkit.linearizability.HistoryRecorder;
import io.consensusactors.testkit.linearizability.Operation;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Recorded {@link TestAccount} operations and their sequential specification, for the linearizability checker. */
public final class AccountHistory {

    private AccountHistory() {
    }

    /** One account operation; {@code consistency} only for reads. */
    public record Op(String account, String kind, long amount, ReadConsistency consistency) {
        @Override
        public String toString() {
            return account + " " + kind + (kind.equals("get") ? "(" + consistency + ")" : "(" + amount + ")");
        }
    }

    /**
     * An account as a sequential specification: deposit returns the new balance, withdraw returns the new balance or
     * -1 when refused for insufficient funds, get returns the balance. Checked per account.
     */
    public static final class Model implements io.consensusactors.testkit.linearizability.Model<Long, Op, Long> {
        @Override
        public Long init() {
            return 0L;
        }

        @Override
        public Long step(Long balance, Op op, Long out) {
            switch (op.kind()) {
                case "deposit" -> {
                    long next = balance + op.amount();
                    return out == null || out == next ? next : null;
                }
                case "withdraw" -> {
                    if (op.amount() > balance) {
                        return out == null || out == -1 ? balance : null;
                    }
                    long next = balance - op.amount();
                    return out == null || out == next ? next : null;
                }
                default -> {
                    return out == null || out.longValue() == balance ? balance : null;
                }
            }
        }

        @Override
        public List<List<Operation<Op, Long>>> partition(List<Operation<Op, Long>> history) {
            Map<String, List<Operation<Op, Long>>> byAccount = new LinkedHashMap<>();
            for (Operation<Op, Long> o : history) {
                byAccount.computeIfAbsent(o.input().account(), k -> new ArrayList<>()).add(o);
            }
            return new ArrayList<>(byAccount.values());
        }

        @Override
        public String describePartition(List<Operation<Op, Long>> partition) {
            return partition.isEmpty() ? null : "account=" + partition.get(0).input().account();
        }

        @Override
        public boolean readOnly(Op op) {
            return op.kind().equals("get");
        }
    }

    /** Runs one operation and records it: its output if it completed, unknown if it failed for any other reason. */
    public static void run(EntityRef<TestAccount.Command> ref, Op op, HistoryRecorder<Op, Long> history,
                            int client, int timeoutSeconds) throws Exception {
        HistoryRecorder.Pending<Op, Long> p = history.invoke(client, op);
        try {
            TestAccount.Balance b = switch (op.kind()) {
                case "deposit" -> ref.<TestAccount.Balance>ask(new TestAccount.Deposit(op.amount()))
                        .toCompletableFuture().get(timeoutSeconds, TimeUnit.SECONDS);
                case "withdraw" -> ref.<TestAccount.Balance>ask(new TestAccount.Withdraw(op.amount()))
                        .toCompletableFuture().get(timeoutSeconds, TimeUnit.SECONDS);
                default -> ref.<TestAccount.Balance>ask(new TestAccount.GetBalance(), op.consistency())
                        .toCompletableFuture().get(timeoutSeconds, TimeUnit.SECONDS);
            };
            p.ok(b.balance());
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof EntityRejectedException r && r.getMessage().contains("insufficient funds")) {
                p.ok(-1L);
                return;
            }
            if (op.kind().equals("get")) {
                p.fail(); // a read that failed had no effect
            } else {
                p.unknown();
            }
            throw e;
        } catch (Exception e) {
            if (op.kind().equals("get")) {
                p.fail();
            } else {
                p.unknown();
            }
            throw e;
        }
    }
}
