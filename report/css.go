package report

// printCSS is the style sheet of the HTML report, for the screen and for
// print: DejaVu Sans, A4 margins set by the PDF renderer, table rows and
// figures never split across pages, headings kept with what follows.
const printCSS = `
@page { size: A4; }
html { font-family: "DejaVu Sans", Verdana, sans-serif; font-size: 9.5pt; line-height: 1.4; color: #000; }
body { max-width: 180mm; margin: 0 auto; }
h1 { font-size: 16pt; margin: 0 0 4pt; }
h2 { font-size: 12.5pt; margin: 16pt 0 6pt; border-bottom: 0.5pt solid #888; }
h3 { font-size: 10.5pt; margin: 12pt 0 4pt; }
h1, h2, h3, h4, caption { break-after: avoid; page-break-after: avoid; }
p { margin: 0 0 6pt; orphans: 3; widows: 3; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 10pt; font-size: 8.5pt; }
th, td { padding: 2pt 6pt; text-align: left; vertical-align: top; border-bottom: 0.4pt solid #ccc; }
th { border-bottom: 0.8pt solid #000; font-weight: bold; }
td.sub { padding-left: 16pt; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr, figure, svg, .keep { break-inside: avoid; page-break-inside: avoid; }
thead { display: table-header-group; }
caption { text-align: left; font-weight: bold; padding-bottom: 3pt; }
figure { margin: 6pt 0 12pt; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 8.5pt; color: #333; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: 1pt 10pt; margin: 6pt 0 10pt; }
dl.meta dt { font-weight: bold; }
dl.meta dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
.note, .footnotes { font-size: 8pt; color: #333; }
.footnotes li { margin-bottom: 2pt; }
pre { font-family: "DejaVu Sans Mono", monospace; font-size: 7pt; white-space: pre-wrap; word-break: break-all; }
sup { font-size: 70%; }
.error { color: #a00; }
`
