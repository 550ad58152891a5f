package stats

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDesign(t *testing.T) {
	t.Parallel()
	f := mustRead(t, "age,race,sex,edu\n"+
		"30,10,M,b\n"+
		"40,2,F,a\n"+
		"50,1,M,B\n"+
		"60,2,F,a\n"+
		"NA,1,F,b\n")
	rows, err := f.Complete("age", "race", "sex", "edu")
	require.NoError(t, err)
	require.Equal(t, []int{0, 1, 2, 3}, rows)

	d, err := f.Design(rows, []string{"race", "age", "sex", "edu"}, []string{"sex", "race", "edu"})
	require.NoError(t, err)
	// race levels sorted numerically (1, 2, 10), edu by byte order (B, a, b).
	assert.Equal(t, []string{"race=2", "race=10", "age", "sex=M", "edu=a", "edu=b"}, d.Names)
	assert.Equal(t, 4, d.N)
	assert.Equal(t, 6, d.P)
	assert.Equal(t, []float64{
		0, 1, 30, 1, 0, 1,
		1, 0, 40, 0, 1, 0,
		0, 0, 50, 1, 0, 0,
		1, 0, 60, 0, 1, 0,
	}, d.X)

	d, err = f.Design([]int{3, 0}, []string{"age"}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"age"}, d.Names)
	assert.Equal(t, []float64{60, 30}, d.X)
}

func TestDesignErrors(t *testing.T) {
	t.Parallel()
	f := mustRead(t, "age,g,h\n30,a,x\nold,a,y\n50,a,\n")
	tests := []struct {
		name       string
		rows       []int
		cov, categ []string
		want       string
	}{
		{"missing column", []int{0}, []string{"age", "zz"}, nil, `design: column "zz" not found; columns are: age, g, h`},
		{"not a number", []int{0, 1}, []string{"age"}, nil, `design: column "age", line 3: "old" is not a number`},
		{"single level", []int{0, 1, 2}, []string{"g"}, []string{"g"}, `design: column "g": only one level "a" among the rows used`},
		{"missing categorical", []int{0, 2}, []string{"h"}, []string{"h"}, `design: column "h", line 4: missing value`},
		{"categorical not covariate", []int{0}, []string{"age"}, []string{"g"}, `design: categorical column "g" is not among the covariates`},
		{"twice", []int{0}, []string{"age", "age"}, nil, `design: covariate "age" listed twice`},
		{"no rows", nil, []string{"age"}, nil, `design: no rows to use`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.Design(tt.rows, tt.cov, tt.categ)
			assert.EqualError(t, err, tt.want)
		})
	}
	_, err := f.Design([]int{0}, []string{"h"}, []string{"h"})
	assert.EqualError(t, err, `design: column "h": only one level "x" among the rows used`)
}
