import { DefaultLogger, Runtime } from '@temporalio/worker';

// Only the SDK's warnings and errors: the activities' info lines would drown the test output.
Runtime.install({ logger: new DefaultLogger('WARN') });
