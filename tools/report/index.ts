// The consistency report between Holvi's and Expenzy's databases, as a library: what the bench,
// the chaos runner, the soak and the tests import (cli.ts is `make report`).
export { buildReport, reportFrom, type Check, type Report, type ReportInput, type Status } from './report.js';
export { comparePayouts, problemKinds, type Comparison, type ProblemKind, type Sample } from './compare.js';
export { loadExpenzy, loadHolvi, type ExpenzyRow, type HolviRow, type HolviSide } from './load.js';
export { percentilesMs, type Percentiles } from './latency.js';
export { formatReport } from './format.js';
