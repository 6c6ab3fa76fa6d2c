import { sandboxContract } from './support/sandbox-contract.js';

sandboxContract('process', { skip: false });
