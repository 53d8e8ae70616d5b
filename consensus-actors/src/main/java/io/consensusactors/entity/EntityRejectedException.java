package io.consensusactors.entity;

/** The entity refused the command (its handler returned {@link Effect#reject}); nothing was changed. */
public final class EntityRejectedException extends RuntimeException {
    public EntityRejectedException(String reason) {
        super(reason);
    }
}
