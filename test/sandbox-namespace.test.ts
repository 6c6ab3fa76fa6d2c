import { NamespaceSandboxDriver } from '../src/sandbox/namespace/namespace-driver.js';
import { sandboxContract } from './support/sandbox-contract.js';

const unavailable = await new NamespaceSandboxDriver().unavailable();
if (unavailable) console.log(`# namespace sandbox skipped: ${unavailable}`);

sandboxContract('namespace', { skip: unavailable ?? false });
