"""FHIR R4B facade of the referrals (ServiceRequest, Task) and the CapabilityStatement."""
