"""What every HTTP client here shares, one concern per module: time budgets (`budget`),
cancellation and socket shutdown (`cancel`), sessions (`session`), the retry policy and the map
from transport exceptions to our errors (`retry`), and bounded reads of small answers
(`capped`)."""
