package io.consensusactors.testkit.linearizability;

/**
 * One integer register: write(v) returns nothing, read() returns the value (initially 0), cas(expect, update)
 * returns whether it swapped.
 */
public final class RegisterModel implements Model<Integer, RegisterModel.Op, Object> {

    public enum Kind { READ, WRITE, CAS }

    public record Op(Kind kind, int value, int expect) {
        public static Op read() {
            return new Op(Kind.READ, 0, 0);
        }

        public static Op write(int v) {
            return new Op(Kind.WRITE, v, 0);
        }

        public static Op cas(int expect, int update) {
            return new Op(Kind.CAS, update, expect);
        }

        @Override
        public String toString() {
            return switch (kind) {
                case READ -> "read()";
                case WRITE -> "write(" + value + ")";
                case CAS -> "cas(" + expect + "->" + value + ")";
            };
        }
    }

    @Override
    public Integer init() {
        return 0;
    }

    @Override
    public Integer step(Integer state, Op op, Object output) {
        switch (op.kind()) {
            case WRITE:
                return op.value();
            case READ:
                return output == null || output.equals(state) ? state : null;
            default:
                boolean swapped = state == op.expect();
                if (output != null && !output.equals(swapped)) {
                    return null;
                }
                return swapped ? op.value() : state;
        }
    }
}
