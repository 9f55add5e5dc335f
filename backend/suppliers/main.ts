import { startPartyService } from '../party/main.js';
import { runMain } from '../shared/server.js';

runMain(() => startPartyService('suppliers'));
