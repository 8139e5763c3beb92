export {
  goldenVersion,
  loadGolden,
  parseGolden,
  checkGolden,
  GoldenFileError,
  evalCollection,
  evalHistoryStream,
  type GoldenCheck,
  type GoldenFile,
  type GoldenExample,
  type TaskExample,
  type WorkflowExample,
} from './golden.js';
export { matchExpected } from './match-expected.js';
export {
  evaluateWorkflow,
  compare as compareEvalResults,
  evalResultVersion,
  type EvalResult,
  type EvalReport,
  type EvalChange,
  type ExampleResult,
  type PassRate,
  type EvaluateOptions,
} from './evaluate-workflow.js';
export { recordExamples } from './record-examples.js';
