"""The outcome of a J_FP search for one realization, shared by the dense and the
matrix-free searches (stdnet.stability.jfp, stdnet.stability.jfp_matrix_free)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class JFPResult:
    """Outcome of the J_FP search for one realization."""

    J_FP: float  # midpoint of the final bracket (nan if no crossing in range)
    crossing: str  # "hopf" | "real" | "none"
    frequency: float  # |Im lambda| of the crossing eigenvalue (0 for real)
    J0_lo: float  # stable end of the final bracket
    J0_hi: float  # unstable end
    lam_lo: complex  # rightmost eigenvalue at J0_lo
    lam_hi: complex  # rightmost eigenvalue at J0_hi (the crossing one)
    evaluations: list = field(default_factory=list)  # (J0, Re, Im) of each rightmost
    spectra: dict = field(default_factory=dict)  # J0 -> eigenvalues found there

    def close(self, lo, hi, lam_lo, lam_hi, freq_tol: float) -> None:
        """Record the final bracket: J_FP its midpoint, the crossing kind and frequency from
        the eigenvalue unstable at its upper end."""
        self.J0_lo, self.J0_hi = float(lo), float(hi)
        self.J_FP = 0.5 * (lo + hi)
        self.lam_lo, self.lam_hi = complex(lam_lo), complex(lam_hi)
        self.frequency = float(abs(lam_hi.imag))
        self.crossing = "hopf" if self.frequency > freq_tol else "real"
        if self.crossing == "real":
            self.frequency = 0.0

    def row(self) -> dict:
        return {"J_FP": self.J_FP, "crossing": self.crossing, "frequency": self.frequency,
                "J0_lo": self.J0_lo, "J0_hi": self.J0_hi,
                "lam_lo_re": self.lam_lo.real, "lam_lo_im": abs(self.lam_lo.imag),
                "lam_hi_re": self.lam_hi.real, "lam_hi_im": abs(self.lam_hi.imag),
                "n_evaluations": len(self.evaluations)}
