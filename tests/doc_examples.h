/* The example commands marked in README.md and the man pages.
 *
 * A marker is a comment a reader never sees, on its own line before the
 * command: `<!-- example: exit N -->` in Markdown, `.\" example: exit N` in
 * roff.  The command is the first one that follows: a line of an example
 * block (an optional "$ " prompt, roff "\e" continuations joined), or a span
 * quoted with backticks or double quotes in running text.  A marker may
 * instead carry a command a reader runs another way (`example: exit N: CMD`),
 * which then runs in its place in the sequence, or say why the command that
 * follows cannot run as it stands (`example: not run: REASON`).  A command
 * starts with `kaieval` or `./kaieval`, after any NAME=VALUE settings. */
#ifndef KVT_DOC_EXAMPLES_H
#define KVT_DOC_EXAMPLES_H

#include <stddef.h>

/* The status of an example a reader cannot run as it stands (it needs a
 * model's weights or a plugin built by hand): `example: not run: REASON`. */
#define DOC_NOT_RUN (-1)

struct doc_example {
	int line;       /* of the command (or of its marker) in the document */
	int status;     /* the exit status the document promises, or DOC_NOT_RUN */
	char *command;  /* as a reader types it */
};

/* The marked examples of a document, in order (caller frees with
 * doc_examples_free).  Returns their count, or -1 with *why (caller frees)
 * naming the line of a marker that is malformed or has no command. */
long doc_examples(const char *text, int is_roff, struct doc_example **out, char **why);
void doc_examples_free(struct doc_example *v, size_t n);

/* The first line (1-based) of a man page's EXAMPLE(S) displays that holds a
 * command none of the n examples v claims; 0 when every one is marked. */
long doc_unmarked(const char *page, const struct doc_example *v, size_t n);

/* A roff line as the reader sees it: \- \e \(aq \(dq \& \fX undone. */
char *doc_unroff(const char *line);

/* The words of a command, NULL-terminated (caller frees each and the array);
 * *redirect gets the file of one trailing `>FILE` (or NULL).  Anything else
 * a shell would interpret is refused: NULL with *why. */
char **doc_split(const char *command, char **redirect, char **why);
void doc_words_free(char **words);

#endif
