extension IngestWriter: WorkRowWriting {}
