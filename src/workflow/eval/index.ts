export {
  loadGolden,
  GoldenFileError,
  type GoldenCheck,
  type GoldenFile,
  type GoldenExample,
  type TaskExample,
  type WorkflowExample,
} from './golden.js';
export {
  evaluateWorkflow,
  type EvalResult,
  type EvalReport,
  type EvalChange,
  type ExampleResult,
  type PassRate,
  type EvaluateOptions,
} from './evaluate-workflow.js';
export { recordExamples } from './record-examples.js';
