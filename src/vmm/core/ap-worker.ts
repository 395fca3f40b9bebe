/** The thread of one application processor (application-processor.ts); started by the boot vCPU's thread. */
import { workerData } from 'node:worker_threads';
import { runApplicationProcessor, type ApSetup } from './application-processor.js';

runApplicationProcessor(workerData as ApSetup);
