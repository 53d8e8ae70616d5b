package io.consensusactors.bank.cli;

import io.consensusactors.persistence.SchemaInitializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code bank} program: {@code bank node} runs one cluster node, {@code bank demo} a local 3-JVM cluster. */
@Command(name = "bank", mixinStandardHelpOptions = true, version = "bank 0.1.0",
        description = "A banking application whose accounts live on a Pekko cluster.",
        subcommands = {NodeCommand.class, DemoCommand.class})
public final class BankCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: use 'bank node' or 'bank demo'");
    }

    public static void main(String[] args) {
        ensureCommonPoolParallelism();
        System.exit(execute(args));
    }

    /**
     * On a machine with 2 cores the JDK's common pool has parallelism 1, and then every asynchronous completion of a
     * CompletableFuture (Pekko's Java ask returns one) starts a NEW THREAD ({@code ThreadPerTaskExecutor}). Measured
     * here: ~40% of CPU in the kernel and 40-100 bank operations/s. Give the pool at least 2 threads before anything
     * touches it; an explicit -Djava.util.concurrent.ForkJoinPool.common.parallelism wins.
     */
    static void ensureCommonPoolParallelism() {
        String key = "java.util.concurrent.ForkJoinPool.common.parallelism";
        if (System.getProperty(key) == null) {
            System.setProperty(key, String.valueOf(Math.max(2, Runtime.getRuntime().availableProcessors())));
        }
    }

    /** Runs the CLI and returns the exit code: 0 ok, 1 runtime failure, 2 bad usage. */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new BankCli());
        cli.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("bank: " + ex.getMessage());
            ex.getCommandLine().usage(ex.getCommandLine().getErr());
            return 2;
        });
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
                    || ex instanceof SchemaInitializer.DatabaseUnavailableException
                    || ex instanceof com.typesafe.config.ConfigException) {
                commandLine.getErr().println("bank: " + ex.getMessage());
                return 1;
            }
            throw ex;
        });
        return cli.execute(args);
    }
}
