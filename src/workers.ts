// Work done by worker processes (`troupe/workers`): the job queues (`openJobQueue`,
// `InProcessQueue`; BullMQ's is in `troupe/redis`), the queue of workflow runs that
// `troupe worker` serves (`workflowRunsQueue`, `serveWorkflowRuns`, `requeueRun`), the queues that
// carry a coordinator's triggers (`enqueueTrigger`, `serveTriggerQueues`, `handleQueue` and their
// names), and the errors a queue throws. A program that only runs agents, crews and workflows in
// its own process needs none of it; the `JobQueue` interface is in `troupe`, beside the runtime.
export {
  InvalidJobIdError,
  JobDataRejectedError,
  UnrecoverableJobError,
  QueueUnavailableError,
  QueueClosedError,
  QueueIdleTimeoutError,
  type JobDataProblem,
} from './queue/queue-errors.js';
export { InProcessQueue, type InProcessQueueOptions } from './queue/in-process-queue.js';
export { openJobQueue, type OpenJobQueueOptions } from './queue/open-job-queue.js';
export { serveWorkflowRuns, requeueRun, workflowRunsQueue, type ServeWorkflowRunsOptions } from './workflow/queued-run.js';
export { handleQueue } from './coordinator/trigger-sources.js';
export {
  triggerQueueName,
  queueTriggerSources,
  enqueueTrigger,
  serveTriggerQueues,
  type TriggerTarget,
  type EnqueueTriggerOptions,
  type ServeTriggerQueuesOptions,
  type ServedTriggerQueues,
} from './coordinator/trigger-queues.js';
