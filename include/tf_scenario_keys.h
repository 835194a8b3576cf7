/* tf_scenario_keys.h: what the scenario reader (host/scenario.c) tells the command line besides
 * tf_scenario.h: the key reference (docs/scenario-keys.md is its Markdown output) and the
 * state memory of a scenario's grid. */
#ifndef TF_SCENARIO_KEYS_H
#define TF_SCENARIO_KEYS_H

#include "tf_scenario.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Print every key (section, key, default, unit, range, help; [model] with its basis) as plain
 * text, or as the Markdown of docs/scenario-keys.md when `markdown` is set. */
void tf_scenario_print_keys(FILE *out, int markdown);

/* Arrays of the solver state for the scheme (six fields and the vessel map; the explicit
 * scheme keeps a second set of fields), each tf_grid_padded_elements(n) elements. */
int tf_scenario_state_arrays(const tf_scenario *s);
/* Bytes of that state in this build's precision, as a double (no overflow). */
double tf_scenario_state_bytes(const tf_scenario *s);

#ifdef __cplusplus
}
#endif

#endif
