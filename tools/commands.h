/* The subcommands of the ensi tool. Each is a function taking the arguments after its name
 * (argv[0] is the subcommand name) and returning a process exit code. To add one, declare it
 * here and add a row to the table in tools/ensi.c. */
#ifndef ENSI_TOOLS_COMMANDS_H
#define ENSI_TOOLS_COMMANDS_H

int ensi_cmd_bench(int argc, char **argv);
int ensi_cmd_run(int argc, char **argv);
int ensi_cmd_model(int argc, char **argv);
int ensi_cmd_generate(int argc, char **argv);
int ensi_cmd_tokenize(int argc, char **argv);
int ensi_cmd_keygen(int argc, char **argv);
int ensi_cmd_encrypt(int argc, char **argv);
int ensi_cmd_eval(int argc, char **argv);
int ensi_cmd_decrypt(int argc, char **argv);
int ensi_cmd_serve(int argc, char **argv);
int ensi_cmd_query(int argc, char **argv);

#endif
