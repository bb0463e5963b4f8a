import { proxySinks, type Sinks, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import type { SyncInput } from '../../src/workflows/sync-contract.js';

/**
 * Bundled with the workflow code by the workflow tests only: hands the test (through a sink, which
 * the worker runs before it completes the workflow task) the input a run continues as new with, so
 * a test can land a signal while that workflow task is in flight.
 */
export interface ContinueAsNewSinks extends Sinks {
  continueAsNewHook: { continuing(input: SyncInput): void };
}

const { continueAsNewHook } = proxySinks<ContinueAsNewSinks>();

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      continueAsNew(input, next) {
        continueAsNewHook.continuing(input.args[0] as SyncInput);
        return next(input);
      },
    },
  ],
});
