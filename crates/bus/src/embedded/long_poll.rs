//! Fetches that wait for data the way Kafka's do: answered the moment a
//! batch is appended, not at the next poll.
//!
//! The broker library's fetch service, finding nothing, sleeps half of the
//! wait the client allowed (librdkafka's `fetch.wait.max.ms`, 500 ms by
//! default) and looks again; a FailedToAppear appended just after that look
//! reaches the notifier up to 250 ms late, five times the latency target.
//! Kafka instead parks an empty fetch until a produce completes it. This
//! layer does that for the log engine: it asks the fetch service for what
//! there is now (a wait of 1 ms), and while that is less than the client's
//! `min_bytes` it waits for the log's "appended" signal, up to the
//! client's own deadline, and asks again. The SQLite engine has no such
//! signal and keeps the library's behaviour.

use std::sync::Arc;
use std::time::Duration;

use nisshi_sans_io::{Body, Frame, FrameInput};
use rama::Service;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The wait each look asks of the fetch service: the least it takes as a
/// wait at all (a wait of 0 ms reads nothing).
const LOOK_MS: i32 = 1;

/// A route service whose fetches wait on `appended` (signalled by the
/// log engine after every append); other requests pass through.
#[derive(Debug, Clone)]
pub struct LongPoll<S> {
    inner: S,
    appended: Option<Arc<Notify>>,
}

impl<S> LongPoll<S> {
    /// Without `appended` (the SQLite engine) every request passes through.
    pub fn new(inner: S, appended: Option<Arc<Notify>>) -> Self {
        LongPoll { inner, appended }
    }
}

impl<S> Service<FrameInput> for LongPoll<S>
where
    S: Service<FrameInput, Output = Frame>,
{
    type Output = Frame;
    type Error = S::Error;

    async fn serve(&self, mut input: FrameInput) -> Result<Frame, S::Error> {
        let (Some(appended), Body::FetchRequest(fetch)) = (&self.appended, &mut input.frame.body)
        else {
            return self.inner.serve(input).await;
        };
        let deadline =
            Instant::now() + Duration::from_millis(u64::try_from(fetch.max_wait_ms).unwrap_or(0));
        let wanted = usize::try_from(fetch.min_bytes).unwrap_or(0).max(1);
        fetch.max_wait_ms = fetch.max_wait_ms.min(LOOK_MS);
        loop {
            // Listening before the look: an append during it is not missed.
            let signal = appended.notified();
            tokio::pin!(signal);
            signal.as_mut().enable();
            let answer = self.inner.serve(input.clone()).await?;
            if answers_now(&answer, wanted) {
                return Ok(answer);
            }
            if tokio::time::timeout_at(deadline, signal).await.is_err() {
                return Ok(answer);
            }
        }
    }
}

/// Whether a fetch's answer goes back now: it holds `wanted` bytes of
/// records, or it carries an error the client must see at once (Kafka
/// answers those without waiting too).
fn answers_now(answer: &Frame, wanted: usize) -> bool {
    let Body::FetchResponse(response) = &answer.body else {
        return true;
    };
    if response.error_code.is_some_and(|code| code != 0) {
        return true;
    }
    let mut bytes = 0usize;
    for topic in response.responses.iter().flatten() {
        for partition in topic.partitions.iter().flatten() {
            if partition.error_code != 0 {
                return true;
            }
            bytes += partition.records.as_ref().map_or(0, |records| {
                records
                    .batches
                    .iter()
                    .map(|batch| usize::try_from(batch.batch_length).unwrap_or(0) + 12)
                    .sum()
            });
        }
    }
    bytes >= wanted
}

#[cfg(test)]
mod tests {
    use super::*;
    use nisshi_sans_io::fetch_response::{FetchableTopicResponse, PartitionData};
    use nisshi_sans_io::{FetchResponse, Header};

    fn answer(partitions: Vec<PartitionData>) -> Frame {
        Frame {
            size: 0,
            header: Header::Response { correlation_id: 1 },
            body: Body::FetchResponse(FetchResponse::default().error_code(Some(0)).responses(
                Some(vec![
                    FetchableTopicResponse::default().partitions(Some(partitions)),
                ]),
            )),
        }
    }

    #[test]
    fn an_empty_answer_waits_and_an_error_does_not() {
        let empty = PartitionData::default().partition_index(0);
        assert!(!answers_now(&answer(vec![empty.clone()]), 1));
        let unknown = PartitionData::default().partition_index(1).error_code(3);
        assert!(answers_now(&answer(vec![empty, unknown]), 1));
    }
}
