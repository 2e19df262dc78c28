/*
 * trawl.c — entry point of the `trawl` program: dispatches `trawl COMMAND ...`
 * to the subcommand table and handles what belongs to no subcommand (help,
 * --version, flushing stdout). A new subcommand is one cli_command constant in
 * its own file plus one line in `commands` below.
 */
#include "cli.h"

#include <string.h>

/* The subcommands, in the order `trawl help` lists them. */
static const cli_command *const commands[] = {
    &cli_cmd_index, &cli_cmd_search, &cli_cmd_get,   &cli_cmd_stats,  &cli_cmd_check,   &cli_cmd_analyze,
    &cli_cmd_serve, &cli_cmd_delete, &cli_cmd_merge, &cli_cmd_backup, &cli_cmd_similar, &cli_cmd_trends,
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* The command named name, or NULL. */
static const cli_command *find_command(const char *name) {
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0) return commands[i];
    return NULL;
}

/* Writes the program's overall usage to out. */
static void print_usage(FILE *out) {
    fputs("usage: trawl COMMAND [OPTIONS] ARGS...\n"
          "\n"
          "A full-text search engine. Commands:\n",
          out);
    for (size_t i = 0; i < NCOMMANDS; i++) fprintf(out, "  %-9s %s\n", commands[i]->name, commands[i]->summary);
    fputs("\n"
          "  trawl help COMMAND   (or trawl COMMAND --help) shows a command's options.\n"
          "  trawl --version      prints the version.\n"
          "\n"
          "Environment (unset or empty: the default):\n"
          "  TRAWL_THREADS=N   analysis threads of `index`, 0..1024 (0: none; more than 8\n"
          "                    count as 8) [one per CPU, at most 8]\n"
          "  TRAWL_RAM_MB=N    memory budget of `index` in MiB (peak about 1.5x), 1..1048576 [256]\n"
          "  TRAWL_SIMD=LEVEL  kernels of the commands that search: scalar, sse4.1, avx2,\n"
          "                    avx512 or auto [auto]\n"
          "\n"
          "Exit status: 0 success, 1 error, 2 usage error (also a bad environment value).\n",
          out);
}

/* `trawl help [COMMAND]`. */
static int run_help(int argc, char **argv) {
    if (argc <= 2) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 3) {
        fputs("trawl help: too many arguments\n\n", stderr);
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const cli_command *cmd = find_command(argv[2]);
    if (!cmd) {
        fprintf(stderr, "trawl help: unknown command '%s'\n\n", argv[2]);
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    fputs(cmd->usage, stdout);
    return CLI_EXIT_OK;
}

/* Picks and runs the command; returns the exit code. */
static int dispatch(int argc, char **argv) {
    if (argc < 2) {
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        return run_help(argc, argv);
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0 || strcmp(name, "version") == 0) {
        printf("trawl %s (library %s)\n", TRAWL_VERSION_STRING, trawl_version());
        return CLI_EXIT_OK;
    }
    const cli_command *cmd = find_command(name);
    if (!cmd) {
        if (name[0] == '-')
            fprintf(stderr, "trawl: unknown option '%s'\n\n", name);
        else
            fprintf(stderr, "trawl: unknown command '%s'\n\n", name);
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return cmd->run(cmd, argc - 1, argv + 1);
}

int main(int argc, char **argv) {
    int code = dispatch(argc, argv);
    /* Output to a full disk or a closed pipe must not pass for success. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fputs("trawl: error writing standard output\n", stderr);
        if (code == CLI_EXIT_OK) code = CLI_EXIT_ERROR;
    }
    return code;
}
