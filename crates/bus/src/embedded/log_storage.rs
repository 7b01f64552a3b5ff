//! The embedded broker's default storage engine: records in Handoff's
//! own log (`handoff-log`: segment files of batches as produced, with
//! offset and time indexes), and the small state (topics and their
//! configuration, committed offsets, groups, producer ids) in the
//! library's SQLite engine, which this wraps. Only what moves records is
//! taken over: produce, fetch, the watermarks, offsets by time, deleting
//! records and topics. Everything else is the SQLite engine's answer.
//!
//! Topics and partitions are the SQLite engine's: a partition's log
//! directory is created the first time the engine confirms the partition
//! exists, and a topic's directories go with the topic (and are cleared
//! when a topic of the same name is created, so a crash between the two
//! deletions cannot hand a new topic an old one's records).
//!
//! Not supported: transactions (Handoff does not use them; a
//! transactional produce is refused with a message saying so).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use handoff_log::{Appended, Log, LogError, SharedPartition};
use nisshi_sans_io::{
    create_topics_request::CreatableTopic,
    delete_groups_response::DeletableGroupResult,
    delete_records_request::DeleteRecordsTopic,
    delete_records_response::{DeleteRecordsPartitionResult, DeleteRecordsTopicResult},
    describe_cluster_response::DescribeClusterBroker,
    describe_configs_response::DescribeConfigsResult,
    describe_topic_partitions_response::DescribeTopicPartitionsResponseTopic,
    fetch_response::AbortedTransaction,
    incremental_alter_configs_request::AlterConfigsResource,
    incremental_alter_configs_response::AlterConfigsResourceResponse,
    record::{deflated, inflated},
    to_system_time, to_timestamp,
    txn_offset_commit_response::TxnOffsetCommitResponseTopic,
    ConfigResource, ErrorCode, IsolationLevel, ListOffset, ScramMechanism,
};
use nisshi_storage::{
    delete_records_cutoff, max_message_bytes, ArcDynStorage, BrokerRegistrationRequest, Error,
    GroupDetail, ListOffsetResponse, MetadataResponse, NamedGroupDetail, OffsetCommitRequest,
    OffsetStage, ProducerIdResponse, Result, ScramCredential, Storage, TopicId, Topition,
    TxnAddPartitionsRequest, TxnAddPartitionsResponse, TxnOffsetCommitRequest, UpdateError,
    Version, DELETE_RECORDS_INVALID_LOW_WATERMARK,
};
use url::Url;
use uuid::Uuid;

/// Records in `log`, the rest in `inner` (the SQLite engine).
#[derive(Debug, Clone)]
pub struct LogStorage {
    inner: ArcDynStorage,
    log: Arc<Log>,
    /// Signalled after every append, for fetches waiting on new records
    /// (`long_poll`).
    appended: Arc<tokio::sync::Notify>,
}

impl LogStorage {
    pub fn new(inner: ArcDynStorage, log: Arc<Log>) -> LogStorage {
        LogStorage {
            inner,
            log,
            appended: Arc::default(),
        }
    }

    /// The signal every append gives.
    pub fn appended(&self) -> Arc<tokio::sync::Notify> {
        self.appended.clone()
    }

    /// The partition's log, created when the SQLite engine says the
    /// partition exists; `UnknownTopicOrPartition` otherwise.
    async fn partition(&self, topition: &Topition) -> Result<SharedPartition> {
        if let Some(p) = self.log.get(topition.topic(), topition.partition()) {
            return Ok(p);
        }
        // Fails with UnknownTopicOrPartition for a partition that is not.
        self.inner.offset_stage(topition).await?;
        self.log
            .get_or_create(topition.topic(), topition.partition())
            .map_err(storage_error)
    }

    /// The name a topic id stands for, from the SQLite engine.
    async fn topic_name(&self, topic: &TopicId) -> Result<Option<String>> {
        match topic {
            TopicId::Name(name) => Ok(Some(name.clone())),
            TopicId::Id(_) => Ok(self
                .inner
                .metadata(Some(std::slice::from_ref(topic)))
                .await?
                .topics
                .into_iter()
                .find_map(|t| t.name)),
        }
    }

    /// The first offset at or after `timestamp` (ms), with its record's
    /// timestamp: the first batch that reaches the time, opened to find
    /// the record in it.
    fn offset_for_time(
        &self,
        partition: &SharedPartition,
        timestamp: i64,
    ) -> Result<Option<(i64, i64)>> {
        let found = lock(partition)
            .batch_for_time(timestamp)
            .map_err(storage_error)?;
        let Some(bytes) = found else {
            return Ok(None);
        };
        let batch = inflated::Batch::try_from(deflated::Batch::try_from(Bytes::from(bytes))?)?;
        Ok(batch.records.iter().find_map(|record| {
            let at = batch.record_timestamp(record);
            (at >= timestamp).then(|| (batch.base_offset + i64::from(record.offset_delta), at))
        }))
    }
}

fn lock(partition: &SharedPartition) -> std::sync::MutexGuard<'_, handoff_log::Partition> {
    partition
        .lock()
        .expect("a partition's lock is never held across a panic")
}

/// A partition's offsets as the broker reports them. No transactions:
/// everything written is stable.
fn stage_of(p: &handoff_log::Partition) -> OffsetStage {
    OffsetStage {
        last_stable: p.next_offset(),
        high_watermark: p.next_offset(),
        log_start: p.log_start(),
    }
}

/// The log's errors as the broker answers them.
fn storage_error(e: LogError) -> Error {
    match e {
        LogError::Malformed(why) => {
            tracing::warn!(why, "refused a batch the log cannot store");
            Error::Api(ErrorCode::InvalidRecord)
        }
        LogError::Corrupt => Error::Api(ErrorCode::CorruptMessage),
        LogError::OffsetOutOfRange { .. } => Error::Api(ErrorCode::OffsetOutOfRange),
        LogError::OutOfOrderSequence { .. } => Error::Api(ErrorCode::OutOfOrderSequenceNumber),
        LogError::ProducerFenced { .. } => Error::Api(ErrorCode::InvalidProducerEpoch),
        other => {
            tracing::error!(error = %other, "the broker's log failed");
            Error::Io(Arc::new(std::io::Error::other(other.to_string())))
        }
    }
}

#[async_trait]
impl Storage for LogStorage {
    async fn create_topic(&self, topic: CreatableTopic, validate_only: bool) -> Result<Uuid> {
        let name = topic.name.clone();
        let id = self.inner.create_topic(topic, validate_only).await?;
        // A topic of the same name deleted before a crash could have left
        // its records behind.
        self.log.delete_topic(&name).map_err(storage_error)?;
        Ok(id)
    }

    async fn delete_topic(&self, topic: &TopicId) -> Result<ErrorCode> {
        let name = self.topic_name(topic).await?;
        let answer = self.inner.delete_topic(topic).await?;
        if let (ErrorCode::None, Some(name)) = (answer, name) {
            self.log.delete_topic(&name).map_err(storage_error)?;
        }
        Ok(answer)
    }

    async fn delete_records(
        &self,
        topics: &[DeleteRecordsTopic],
    ) -> Result<Vec<DeleteRecordsTopicResult>> {
        let mut answers = Vec::with_capacity(topics.len());
        for topic in topics {
            let mut partitions = Vec::new();
            for requested in topic.partitions.as_deref().unwrap_or_default() {
                let topition = Topition::new(topic.name.as_str(), requested.partition_index);
                let (error_code, low_watermark) = match self.partition(&topition).await {
                    Err(Error::Api(code)) => (code, DELETE_RECORDS_INVALID_LOW_WATERMARK),
                    Err(e) => return Err(e),
                    Ok(partition) => {
                        let mut p = lock(&partition);
                        let stage = stage_of(&p);
                        match delete_records_cutoff(requested.offset, &stage) {
                            Err(code) => (code, DELETE_RECORDS_INVALID_LOW_WATERMARK),
                            Ok(cutoff) => (
                                ErrorCode::None,
                                p.delete_before(cutoff).map_err(storage_error)?,
                            ),
                        }
                    }
                };
                partitions.push(
                    DeleteRecordsPartitionResult::default()
                        .partition_index(requested.partition_index)
                        .low_watermark(low_watermark)
                        .error_code(error_code.into()),
                );
            }
            answers.push(
                DeleteRecordsTopicResult::default()
                    .name(topic.name.clone())
                    .partitions(Some(partitions)),
            );
        }
        Ok(answers)
    }

    async fn produce(
        &self,
        transaction_id: Option<&str>,
        topition: &Topition,
        batch: deflated::Batch,
    ) -> Result<i64> {
        if transaction_id.is_some() || batch.is_transactional() || batch.is_control() {
            return Err(Error::Message(
                "the embedded broker's log does not support transactions; Handoff does not use them (each sink stores its offsets with its state)".into(),
            ));
        }
        max_message_bytes::ensure_batch_fits(
            &batch,
            max_message_bytes::limit(topition.topic(), None),
        )?;
        let partition = self.partition(topition).await?;
        let bytes = Vec::from(Bytes::from(batch));
        let appended = if self.log.settings().fsync == handoff_log::Fsync::Always {
            // A disk flush per batch: off the async threads.
            tokio::task::spawn_blocking(move || lock(&partition).append(bytes))
                .await
                .map_err(|e| Error::Join(Arc::new(e)))?
        } else {
            lock(&partition).append(bytes)
        }
        .map_err(storage_error)?;
        self.appended.notify_waiters();
        if let Appended::Duplicate(offset) = appended {
            tracing::debug!(
                topic = topition.topic(),
                partition = topition.partition(),
                offset,
                "an idempotent producer's retry answered with its first offset"
            );
        }
        Ok(appended.base_offset())
    }

    async fn fetch(
        &self,
        topition: &'_ Topition,
        offset: i64,
        _min_bytes: u32,
        max_bytes: u32,
        _isolation: IsolationLevel,
        _max_wait: Duration,
    ) -> Result<Vec<deflated::Batch>> {
        let partition = self.partition(topition).await?;
        let batches = lock(&partition)
            .read(offset, max_bytes as usize)
            .map_err(storage_error)?;
        batches
            .into_iter()
            .map(|b| deflated::Batch::try_from(Bytes::from(b)).map_err(Error::from))
            .collect()
    }

    async fn offset_stage(&self, topition: &Topition) -> Result<OffsetStage> {
        let partition = self.partition(topition).await?;
        let stage = stage_of(&lock(&partition));
        Ok(stage)
    }

    async fn list_offsets(
        &self,
        _isolation_level: IsolationLevel,
        offsets: &[(Topition, ListOffset)],
    ) -> Result<Vec<(Topition, ListOffsetResponse)>> {
        let mut answers = Vec::with_capacity(offsets.len());
        for (topition, wanted) in offsets {
            let partition = match self.partition(topition).await {
                Ok(p) => p,
                Err(Error::Api(code)) => {
                    answers.push((
                        topition.clone(),
                        ListOffsetResponse {
                            error_code: code,
                            timestamp: None,
                            offset: None,
                        },
                    ));
                    continue;
                }
                Err(e) => return Err(e),
            };
            let (offset, timestamp) = match wanted {
                ListOffset::Earliest => (Some(lock(&partition).log_start()), None),
                ListOffset::Latest => (Some(lock(&partition).next_offset()), None),
                ListOffset::Timestamp(at) => {
                    match self.offset_for_time(&partition, to_timestamp(at)?)? {
                        Some((offset, found)) => (Some(offset), Some(to_system_time(found)?)),
                        None => (None, None),
                    }
                }
            };
            answers.push((
                topition.clone(),
                ListOffsetResponse {
                    error_code: ErrorCode::None,
                    timestamp,
                    offset,
                },
            ));
        }
        Ok(answers)
    }

    async fn maintain(&self, now: SystemTime) -> Result<()> {
        self.inner.maintain(now).await
    }

    async fn register_broker(&self, broker_registration: BrokerRegistrationRequest) -> Result<()> {
        self.inner.register_broker(broker_registration).await
    }

    async fn incremental_alter_resource(
        &self,
        resource: AlterConfigsResource,
    ) -> Result<AlterConfigsResourceResponse> {
        self.inner.incremental_alter_resource(resource).await
    }

    async fn brokers(&self) -> Result<Vec<DescribeClusterBroker>> {
        self.inner.brokers().await
    }

    async fn offset_commit(
        &self,
        group_id: &str,
        retention_time_ms: Option<Duration>,
        offsets: &[(Topition, OffsetCommitRequest)],
    ) -> Result<Vec<(Topition, ErrorCode)>> {
        self.inner
            .offset_commit(group_id, retention_time_ms, offsets)
            .await
    }

    async fn offset_fetch(
        &self,
        group_id: Option<&str>,
        topics: &[Topition],
        require_stable: Option<bool>,
    ) -> Result<BTreeMap<Topition, i64>> {
        self.inner
            .offset_fetch(group_id, topics, require_stable)
            .await
    }

    async fn committed_offset_topitions(&self, group_id: &str) -> Result<BTreeMap<Topition, i64>> {
        self.inner.committed_offset_topitions(group_id).await
    }

    async fn metadata(&self, topics: Option<&[TopicId]>) -> Result<MetadataResponse> {
        self.inner.metadata(topics).await
    }

    async fn upsert_user_scram_credential(
        &self,
        user: &str,
        mechanism: ScramMechanism,
        credential: ScramCredential,
    ) -> Result<()> {
        self.inner
            .upsert_user_scram_credential(user, mechanism, credential)
            .await
    }

    async fn delete_user_scram_credential(
        &self,
        user: &str,
        mechanism: ScramMechanism,
    ) -> Result<()> {
        self.inner
            .delete_user_scram_credential(user, mechanism)
            .await
    }

    async fn user_scram_credential(
        &self,
        user: &str,
        mechanism: ScramMechanism,
    ) -> Result<Option<ScramCredential>> {
        self.inner.user_scram_credential(user, mechanism).await
    }

    async fn describe_config(
        &self,
        name: &str,
        resource: ConfigResource,
        keys: Option<&[String]>,
    ) -> Result<DescribeConfigsResult> {
        self.inner.describe_config(name, resource, keys).await
    }

    async fn list_groups(&self) -> Result<Vec<NamedGroupDetail>> {
        self.inner.list_groups().await
    }

    async fn delete_groups(
        &self,
        group_ids: Option<&[String]>,
    ) -> Result<Vec<DeletableGroupResult>> {
        self.inner.delete_groups(group_ids).await
    }

    async fn describe_groups(
        &self,
        group_ids: Option<&[String]>,
        include_authorized_operations: bool,
    ) -> Result<Vec<NamedGroupDetail>> {
        self.inner
            .describe_groups(group_ids, include_authorized_operations)
            .await
    }

    async fn describe_topic_partitions(
        &self,
        topics: Option<&[TopicId]>,
        partition_limit: i32,
        cursor: Option<Topition>,
    ) -> Result<Vec<DescribeTopicPartitionsResponseTopic>> {
        self.inner
            .describe_topic_partitions(topics, partition_limit, cursor)
            .await
    }

    async fn group_with_version(&self, group_id: &str) -> Result<Option<(GroupDetail, Version)>> {
        self.inner.group_with_version(group_id).await
    }

    async fn update_group(
        &self,
        group_id: &str,
        detail: GroupDetail,
        version: Option<Version>,
    ) -> Result<Version, UpdateError<GroupDetail>> {
        self.inner.update_group(group_id, detail, version).await
    }

    async fn init_producer(
        &self,
        transaction_id: Option<&str>,
        transaction_timeout_ms: i32,
        producer_id: Option<i64>,
        producer_epoch: Option<i16>,
    ) -> Result<ProducerIdResponse> {
        self.inner
            .init_producer(
                transaction_id,
                transaction_timeout_ms,
                producer_id,
                producer_epoch,
            )
            .await
    }

    async fn txn_add_offsets(
        &self,
        transaction_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        group_id: &str,
    ) -> Result<ErrorCode> {
        self.inner
            .txn_add_offsets(transaction_id, producer_id, producer_epoch, group_id)
            .await
    }

    async fn txn_add_partitions(
        &self,
        partitions: TxnAddPartitionsRequest,
    ) -> Result<TxnAddPartitionsResponse> {
        self.inner.txn_add_partitions(partitions).await
    }

    async fn txn_offset_commit(
        &self,
        offsets: TxnOffsetCommitRequest,
    ) -> Result<Vec<TxnOffsetCommitResponseTopic>> {
        self.inner.txn_offset_commit(offsets).await
    }

    async fn txn_end(
        &self,
        transaction_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        committed: bool,
    ) -> Result<ErrorCode> {
        self.inner
            .txn_end(transaction_id, producer_id, producer_epoch, committed)
            .await
    }

    async fn maintain_transactions(&self, now: SystemTime) -> Result<()> {
        self.inner.maintain_transactions(now).await
    }

    async fn aborted_transactions(
        &self,
        topition: &Topition,
        offset: i64,
        last_stable_offset: i64,
    ) -> Result<Vec<AbortedTransaction>> {
        self.inner
            .aborted_transactions(topition, offset, last_stable_offset)
            .await
    }

    async fn cluster_id(&self) -> Result<String> {
        self.inner.cluster_id().await
    }

    async fn node(&self) -> Result<i32> {
        self.inner.node().await
    }

    async fn advertised_listener(&self) -> Result<Url> {
        self.inner.advertised_listener().await
    }

    async fn ping(&self) -> Result<()> {
        self.inner.ping().await
    }
}
