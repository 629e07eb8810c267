-- Automatic timeline entries keep their kind (domain::timeline::Happened)
-- beside the sentence, so readers ask the kind and never the wording.
ALTER TABLE timeline_entries ADD COLUMN event_kind TEXT;

-- Entries written before kinds existed: the kinds the postmortem leaves out
-- are told by their wording this one time; the rest count as 'earlier'.
UPDATE timeline_entries SET event_kind = 'decided'
    WHERE kind = 'event' AND body LIKE 'Decision: %';
UPDATE timeline_entries SET event_kind = 'decision_result'
    WHERE kind = 'event' AND event_kind IS NULL AND body LIKE '% recorded a result: %';
UPDATE timeline_entries SET event_kind = 'ticked'
    WHERE kind = 'event' AND event_kind IS NULL AND body LIKE '% ticked: %';
UPDATE timeline_entries SET event_kind = 'checked_in'
    WHERE kind = 'event' AND event_kind IS NULL AND body LIKE '% ran a check-in';
UPDATE timeline_entries SET event_kind = 'earlier'
    WHERE kind = 'event' AND event_kind IS NULL;
