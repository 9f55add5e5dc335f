import { runMain } from '@pdash/backend-shared/server';
import { startPartyService } from '../party/main.js';

runMain(() => startPartyService('customers'));
