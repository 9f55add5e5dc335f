import { runMain } from '@pdash/backend-shared/main';
import { startPartyService } from '../party/main.js';

runMain(import.meta.url, 'customers', () => startPartyService('customers'));
