-- One database per store: the views (shared by every views instance) and
-- the notifier's outbox. Runs once, on the volume's first start.
CREATE DATABASE handoff_views;
CREATE DATABASE handoff_notify;
