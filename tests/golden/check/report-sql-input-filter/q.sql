SELECT eid FROM events
