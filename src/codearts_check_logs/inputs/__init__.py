"""The inputs, validated before any request is sent: action.yml's names and defaults
(`metadata`), single values (`values`), the output folder (`paths`), service URLs (`endpoints`),
and the Settings record (`settings`). Pure but for reading action.yml and the output folder."""
