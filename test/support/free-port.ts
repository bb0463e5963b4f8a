// One implementation for the tests and the chaos runner.
export { freePort } from '../../tools/chaos/ports.js';
