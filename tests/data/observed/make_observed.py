# Writes the .npy fixtures of tests/pipeline/observed_io_test.cpp with NumPy itself (an independent
# writer): flux[e, j] = 1000 + 10 e + 0.5 j, exact in float32.
import numpy as np
e, j = np.meshgrid(np.arange(2), np.arange(7200), indexing="ij")
flux = 1000.0 + 10.0 * e + 0.5 * j
np.save("flux_f4_2x7200.npy", flux.astype(np.float32))
np.save("flux_f8_fortran_2x7200.npy", np.asfortranarray(flux))
np.save("flux_i8_7200.npy", flux[1].astype(np.int64))  # one curve, integers (0.5 j truncated)
np.save("flux_f8_2x10.npy", flux[:, :10])  # wrong length
