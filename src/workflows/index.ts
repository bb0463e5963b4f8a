export { expenzySync } from './expenzy-sync.js';
