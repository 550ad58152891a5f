package format_test

import (
	"fmt"

	"github.com/beaver-analytics/beaver/report/format"
)

func ExampleRatioCI() {
	fmt.Println(format.RatioCI(format.EN, 1.4871, 1.1802, 1.8738))
	fmt.Println(format.RatioCI(format.IT, 1.4871, 1.1802, 1.8738))
	// Output:
	// 1.49 (1.18–1.87)
	// 1,49 (1,18–1,87)
}

func ExampleP() {
	fmt.Println(format.P(format.EN, 0.0004), format.P(format.EN, 0.0494), format.P(format.IT, 0.5))
	// Output: < 0.001 0.049 0,500
}

func ExampleCount() {
	four, many := 4, 25630
	fmt.Println(format.Count(format.EN, &four, 5), format.Count(format.EN, nil, 5), format.Count(format.IT, &many, 5))
	// Output: <5 <5 25.630
}
