package etl

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	arrowcsv "github.com/apache/arrow-go/v18/arrow/csv"
)

// benchCSV is 200,000 pharmacy rows, as BenchmarkImportPharmacy writes them.
func benchCSV() []byte {
	var b bytes.Buffer
	b.WriteString("person_id;dispensing_date;aic;atc;packs;prescriber_id;cost;copay\n")
	for i := 0; i < 200_000; i++ {
		fmt.Fprintf(&b, "%d;2019-%02d-%02d;%09d;A10BA02;%d;GP%04d;%d.%02d;%d\n",
			1+i*7919%500_000, 1+i%12, 1+i%28, 10_000_000+i%200, 1+i%3, i%5000, 3+i%60, i%100, i%3)
	}
	return b.Bytes()
}

// BenchmarkCSVReaders compares the record readers the import could use to
// turn a CSV file into text fields (the values are parsed and checked after
// either): the import's own line reader behind its decoder (one physical
// line a row, csvFile), encoding/csv behind the decoder, as the import read
// before, and Apache Arrow's CSV reader into string columns. Figures in
// docs/benchmarks.md.
func BenchmarkCSVReaders(b *testing.B) {
	data := benchCSV()
	const rows = 200_000
	b.Run("lines", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for i := 0; i < b.N; i++ {
			cf, err := openCSV("bench.csv", bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			tf := cf.table()
			n := 0
			for {
				rec, _, err := tf.next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				n += len(rec[0])
			}
		}
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("encoding-csv", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for i := 0; i < b.N; i++ {
			dec, err := newDecoder("bench.csv", bufio.NewReaderSize(bytes.NewReader(data), sniffSize))
			if err != nil {
				b.Fatal(err)
			}
			r := csv.NewReader(bufio.NewReaderSize(dec, 1<<20))
			r.Comma, r.LazyQuotes, r.ReuseRecord = ';', true, true
			n := 0
			for {
				rec, err := r.Read()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				n += len(rec[0])
			}
		}
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("arrow-csv", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		fields := make([]arrow.Field, 8)
		for i, name := range []string{"person_id", "dispensing_date", "aic", "atc", "packs", "prescriber_id", "cost", "copay"} {
			fields[i] = arrow.Field{Name: name, Type: arrow.BinaryTypes.String, Nullable: true}
		}
		schema := arrow.NewSchema(fields, nil)
		for i := 0; i < b.N; i++ {
			r := arrowcsv.NewReader(bufio.NewReaderSize(bytes.NewReader(data), 1<<20), schema,
				arrowcsv.WithComma(';'), arrowcsv.WithHeader(true), arrowcsv.WithLazyQuotes(true), arrowcsv.WithChunk(16*1024))
			n := 0
			for r.Next() {
				col := r.RecordBatch().Column(0).(*array.String)
				for j := 0; j < col.Len(); j++ {
					n += len(col.Value(j))
				}
			}
			if err := r.Err(); err != nil {
				b.Fatal(err)
			}
			r.Release()
		}
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
