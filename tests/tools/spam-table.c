/*
 * spam-table - print the spam signal table as Markdown rows
 * ("| `name` | weight | meaning |"), so docs/SIGNALS.md can be checked
 * against the code (tests/integration/spam.py).
 */
#include <stdio.h>
#include "spam.h"

int main(void)
{
	struct spam_def_info d;
	for (size_t i = 0; spam_table_row(i, &d) == 0; i++)
		printf("| `%s%s` | %g | %s%s |\n", d.name, d.family ? ".ZONE" : "", d.weight, d.doc,
		       d.inbound_only ? " (inbound only)" : "");
	return 0;
}
