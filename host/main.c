#include "tf_solver.h"
#include <stdio.h>
int main(void) { printf("tumorfield %s\n", TF_VERSION_STRING); return 0; }
