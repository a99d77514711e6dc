"""Independent results the tests hold the library against: textbook systems with known
Lyapunov exponents and the Sompolinsky-Crisanti-Sommers solution (test-only code)."""
