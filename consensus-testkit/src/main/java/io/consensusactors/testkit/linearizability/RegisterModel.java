package io.consensusactors.testkit.linearizability;

/**
 * One integer register, initially 0: {@link Write} (output ignored, may be null), {@link Read} (output: the
 * {@code Integer} read), {@link Cas} (output: {@code Boolean}, whether it swapped). A null output means unknown
 * outcome.
 */
public final class RegisterModel implements Model<Integer, RegisterModel.Op, Object> {

    public sealed interface Op permits Read, Write, Cas {
        static Op read() {
            return new Read();
        }

        static Op write(int value) {
            return new Write(value);
        }

        static Op cas(int expect, int update) {
            return new Cas(expect, update);
        }
    }

    public record Read() implements Op {
        @Override
        public String toString() {
            return "read()";
        }
    }

    public record Write(int value) implements Op {
        @Override
        public String toString() {
            return "write(" + value + ")";
        }
    }

    public record Cas(int expect, int update) implements Op {
        @Override
        public String toString() {
            return "cas(" + expect + "->" + update + ")";
        }
    }

    private final int initial;

    public RegisterModel() {
        this(0);
    }

    public RegisterModel(int initial) {
        this.initial = initial;
    }

    @Override
    public Integer init() {
        return initial;
    }

    @Override
    public Integer step(Integer state, Op op, Object output) {
        if (op instanceof Write w) {
            return w.value();
        }
        if (op instanceof Read) {
            return output == null || state.equals(output) ? state : null;
        }
        Cas cas = (Cas) op;
        boolean swapped = state == cas.expect();
        if (output != null && !Boolean.valueOf(swapped).equals(output)) {
            return null;
        }
        return swapped ? cas.update() : state;
    }

    @Override
    public boolean readOnly(Op input) {
        return input instanceof Read;
    }
}
