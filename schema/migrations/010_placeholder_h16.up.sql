-- Placeholder on branch h16 only, so that 011 applies in its tests: main
-- has its own 010. Delete this file when merging.
SELECT 1;
