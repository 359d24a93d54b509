/* C consumer of the installed lensflow: the C header compiles as C and the call succeeds; a bad
 * value gives LENSFLOW_INVALID_ARGUMENT with a message. */
#include <stdio.h>
#include <string.h>

#include "lens/lensflow_lens.h"

int main(void) {
  double s = 1.0, q = 0.5, y1 = 30.0, y2 = 40.0, A = 0.0, bad_q = -1.0;
  if (lensflow_point_mag(&s, &q, &y1, &y2, 1, &A, 1) != LENSFLOW_OK) {
    printf("unexpected error: %s\n", lensflow_last_error());
    return 1;
  }
  printf("A = %.12f\n", A);
  if (!(A > 1.0 && A < 1.0001)) return 1;
  if (lensflow_point_mag(&s, &bad_q, &y1, &y2, 1, &A, 1) != LENSFLOW_INVALID_ARGUMENT) return 1;
  printf("expected error: %s\n", lensflow_last_error());
  return strstr(lensflow_last_error(), "q[0]") ? 0 : 1;
}
