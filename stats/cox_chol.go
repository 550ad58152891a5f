package stats

import "math"

// The survival package solves its Newton steps with its own generalized
// Cholesky routines (cholesky2, chsolve2 and chinv2 in survival's C code):
// an LDL' decomposition that zeroes a pivot smaller than tol times the largest
// diagonal element instead of failing. Singular-design detection depends on
// that tolerance, so it is reproduced here on a dense row-major p×p matrix.

// coxCholesky decomposes the symmetric matrix m (row-major p×p, upper
// triangle used) in place into L D L' and returns the rank; pivots below
// tol·max(diag) are set to zero. A negative rank means the matrix is not
// non-negative definite.
func coxCholesky(m []float64, p int, tol float64) int {
	eps := 0.0
	for i := 0; i < p; i++ {
		if m[i*p+i] > eps {
			eps = m[i*p+i]
		}
		for j := i + 1; j < p; j++ {
			m[j*p+i] = m[i*p+j]
		}
	}
	if eps == 0 {
		eps = tol
	} else {
		eps *= tol
	}
	rank, nonneg := 0, 1
	for i := 0; i < p; i++ {
		pivot := m[i*p+i]
		if math.IsInf(pivot, 0) || math.IsNaN(pivot) || pivot < eps {
			m[i*p+i] = 0
			if pivot < -8*eps {
				nonneg = -1
			}
			continue
		}
		rank++
		for j := i + 1; j < p; j++ {
			temp := m[j*p+i] / pivot
			m[j*p+i] = temp
			m[j*p+j] -= temp * temp * pivot
			for k := j + 1; k < p; k++ {
				m[k*p+j] -= temp * m[k*p+i]
			}
		}
	}
	return rank * nonneg
}

// coxCholSolve solves m x = y in place in y, with m decomposed by
// coxCholesky; components on a zero pivot are set to zero.
func coxCholSolve(m []float64, p int, y []float64) {
	for i := 0; i < p; i++ {
		temp := y[i]
		for j := 0; j < i; j++ {
			temp -= y[j] * m[i*p+j]
		}
		y[i] = temp
	}
	for i := p - 1; i >= 0; i-- {
		if m[i*p+i] == 0 {
			y[i] = 0
			continue
		}
		temp := y[i] / m[i*p+i]
		for j := i + 1; j < p; j++ {
			temp -= y[j] * m[j*p+i]
		}
		y[i] = temp
	}
}

// coxCholInverse replaces m, decomposed by coxCholesky, by the full
// symmetric (generalized) inverse; rows and columns of zero pivots are zero.
func coxCholInverse(m []float64, p int) {
	// invert the Cholesky factor in the lower triangle
	for i := 0; i < p; i++ {
		if m[i*p+i] > 0 {
			m[i*p+i] = 1 / m[i*p+i]
			for j := i + 1; j < p; j++ {
				m[j*p+i] = -m[j*p+i]
				for k := 0; k < i; k++ {
					m[j*p+k] += m[j*p+i] * m[i*p+k]
				}
			}
		}
	}
	// F'DF into the upper triangle
	for i := 0; i < p; i++ {
		if m[i*p+i] == 0 {
			for j := 0; j < i; j++ {
				m[j*p+i] = 0
			}
			for j := i; j < p; j++ {
				m[i*p+j] = 0
			}
			continue
		}
		for j := i + 1; j < p; j++ {
			temp := m[j*p+i] * m[j*p+j]
			if j != i {
				m[i*p+j] = temp
			}
			for k := i; k < j; k++ {
				m[i*p+k] += temp * m[j*p+k]
			}
		}
	}
	for i := 0; i < p; i++ {
		for j := 0; j < i; j++ {
			m[i*p+j] = m[j*p+i]
		}
	}
}
