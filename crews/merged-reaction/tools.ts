// Tools for the merged-reaction configuration, for `troupe coordinator compare`: a fresh copy of
// the fixture channel each time, so one run's reactions never leak into the next.
import { chatTools, loadChannel } from './chat-tools.js';

export default function tools() {
  return chatTools(loadChannel()).tools;
}
