/*
 * process.h - child processes of the launcher: finding programs, spawning
 * them with clean signals, stdio and descriptors, and recognising a process
 * by its command line (pids are reused; a pid file alone proves nothing).
 */
#ifndef DOM0_PROCESS_H
#define DOM0_PROCESS_H

#include <stddef.h>
#include <sys/types.h>

/* Resolve name (searched in PATH unless it contains '/') to an executable
 * path. -ENOENT if there is none. */
int process_find_program(const char *name, char *out, size_t outlen);

/* Default dispositions for every signal, empty signal mask. */
void process_reset_signals(void);

/* Close every descriptor >= 3 except keep_a and keep_b (-1: none). */
void process_close_fds_except(int keep_a, int keep_b);

/* pipe2(O_CLOEXEC) then fork: the child's pid (0 in the child), or -errno
 * with no pipe left open. pipefd[0] reads what pipefd[1] writes. */
pid_t process_fork_piped(int pipefd[2]);

/* Start path with argv: stdin from /dev/null, stdout and stderr to log_path
 * (truncated), signals reset, descriptors >= 3 closed except keep_fd (-1:
 * none), which the program inherits (close-on-exec cleared). Returns 0 once exec has succeeded, with *pid set; -errno and a
 * message if the program could not be run. */
int process_spawn(const char *path, char *const argv[], const char *log_path, int keep_fd,
                  pid_t *pid, char *err, size_t errlen);

/* waitpid without EINTR; returns the wait status or -errno. */
int process_wait(pid_t pid);

/* Is pid a live (not zombie) process whose NUL-separated command line
 * contains needle as one whole argument or inside one? */
int process_cmdline_contains(pid_t pid, const char *needle);

/* Is pid a live (not zombie) process whose name (comm) is name? */
int process_comm_is(pid_t pid, const char *name);

#endif
