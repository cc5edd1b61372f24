import { DefaultLogger, Runtime } from '@temporalio/worker';

// Workers in tests log warnings only; the bundler's report would drown the test output.
Runtime.install({ logger: new DefaultLogger('WARN') });
