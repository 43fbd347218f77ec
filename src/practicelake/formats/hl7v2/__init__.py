"""HL7 v2 messages: SIU appointments, DFT^P03 charges and ADT^A04/A08 patients (reader.FORMAT)."""
