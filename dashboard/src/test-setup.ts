import { cleanup } from '@solidjs/testing-library';
import { afterEach } from 'vitest';

afterEach(() => cleanup());

// jsdom has no scrolling; the router scrolls to the top on navigation.
window.scrollTo = () => {};
