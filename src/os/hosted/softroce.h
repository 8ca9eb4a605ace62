/*
 * softroce.h - the hosted softroce NDK provider's C entry points (adapter
 * open/close, the test platform, hosted MDLs), and the NDKPI 2.1 types a C
 * caller needs to drive the adapter, PD, CQ, QP, SRQ, MR and MW through
 * their dispatch tables.  Layouts match the Rust definitions in src/abi
 * (x64: NDK_OBJECT_HEADER 0x28, NDK_ADAPTER 0x30, NDK_ADAPTER_DISPATCH 0x48,
 * NDK_ADAPTER_INFO 0x68, MDL 0x30, NDK_SGE 0x10, NDK_RESULT_EX 0x28);
 * tests/c/open_adapter.c and tests/c/ndk_objects.c check the offsets.
 *
 * Link with -lsoftroce (libsoftroce.so, built by `cargo build --lib`).
 * See docs/HOSTED-API.md.
 */
#ifndef SOFTROCE_H
#define SOFTROCE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* NDK provider functions use the Windows "system" convention; everywhere
 * but 32-bit Windows that is the plain C convention. */
#if defined(_WIN32)
#define SOFTROCE_NDKAPI __stdcall
#else
#define SOFTROCE_NDKAPI
#endif

typedef int32_t NTSTATUS;
typedef uint32_t ULONG;
typedef uint16_t USHORT;
typedef uint8_t BOOLEAN;
typedef size_t SIZE_T;

/* ---- status values the entry points and the adapter table return ------- */
#define STATUS_SUCCESS                ((NTSTATUS)0x00000000)
#define STATUS_PENDING                ((NTSTATUS)0x00000103)
#define STATUS_NOT_IMPLEMENTED        ((NTSTATUS)0xC0000002u)
#define STATUS_INVALID_HANDLE         ((NTSTATUS)0xC0000008u)
#define STATUS_INVALID_PARAMETER      ((NTSTATUS)0xC000000Du)
#define STATUS_BUFFER_TOO_SMALL       ((NTSTATUS)0xC0000023u)
#define STATUS_INSUFFICIENT_RESOURCES ((NTSTATUS)0xC000009Au)
#define STATUS_NOT_SUPPORTED          ((NTSTATUS)0xC00000BBu)
#define STATUS_INVALID_ADDRESS        ((NTSTATUS)0xC0000141u)
#define STATUS_BUFFER_OVERFLOW        ((NTSTATUS)0x80000005u)
#define STATUS_ACCESS_VIOLATION       ((NTSTATUS)0xC0000005u)
#define STATUS_INVALID_DEVICE_REQUEST ((NTSTATUS)0xC0000010u)
#define STATUS_CANCELLED              ((NTSTATUS)0xC0000120u)
#define STATUS_INVALID_DEVICE_STATE   ((NTSTATUS)0xC0000184u)
#define STATUS_CONNECTION_INVALID     ((NTSTATUS)0xC000023Au)
#define STATUS_IMPLEMENTATION_LIMIT   ((NTSTATUS)0xC000042Bu)
#define NDIS_STATUS_BAD_VERSION       ((NTSTATUS)0xC0010004u)
#define NT_SUCCESS(s)                 (((NTSTATUS)(s)) >= 0)

/* ---- NDK_VERSION --------------------------------------------------------- */
typedef struct _NDK_VERSION {
    USHORT Major;
    USHORT Minor;
} NDK_VERSION;

/* ---- object header -------------------------------------------------------- */
typedef enum _NDK_OBJECT_TYPE {
    NdkObjectTypeUndefined = 0,
    NdkObjectTypeAdapter = 1,
    NdkObjectTypeQp = 2,
    NdkObjectTypeCq = 3,
    NdkObjectTypeMr = 4,
    NdkObjectTypeMw = 5,
    NdkObjectTypePd = 6,
    NdkObjectTypeSharedEndpoint = 7,
    NdkObjectTypeConnector = 8,
    NdkObjectTypeListener = 9,
    NdkObjectTypeSrq = 10,
    NdkObjectTypeMax = 11
} NDK_OBJECT_TYPE;

typedef struct _NDK_OBJECT_HEADER_RESERVED_BLOCK {
    void *rf[4];
} NDK_OBJECT_HEADER_RESERVED_BLOCK;

typedef struct _NDK_OBJECT_HEADER {
    NDK_VERSION Version;
    NDK_OBJECT_TYPE ObjectType;
    NDK_OBJECT_HEADER_RESERVED_BLOCK NdkReserved; /* zero; not the provider's */
} NDK_OBJECT_HEADER;

/* ---- NDK_ADAPTER_INFO ------------------------------------------------------ */
typedef enum _NDK_RDMA_TECHNOLOGY {
    NdkUndefined = 0,
    NdkiWarp = 1,
    NdkInfiniBand = 2,
    NdkRoCE = 3,
    NdkRoCEv2 = 4,
    NdkMaxTechnology = 5
} NDK_RDMA_TECHNOLOGY;

#define NDK_ADAPTER_FLAG_IN_ORDER_DMA_SUPPORTED              0x00000001u
#define NDK_ADAPTER_FLAG_RDMA_READ_SINK_NOT_REQUIRED         0x00000002u
#define NDK_ADAPTER_FLAG_CQ_INTERRUPT_MODERATION_SUPPORTED   0x00000004u
#define NDK_ADAPTER_FLAG_MULTI_ENGINE_SUPPORTED              0x00000008u
#define NDK_ADAPTER_FLAG_RDMA_READ_LOCAL_INVALIDATE_SUPPORTED 0x00000010u
#define NDK_ADAPTER_FLAG_CQ_RESIZE_SUPPORTED                 0x00000100u
#define NDK_ADAPTER_FLAG_LOOPBACK_CONNECTIONS_SUPPORTED      0x00010000u

typedef struct _NDK_ADAPTER_INFO {
    NDK_VERSION Version;
    ULONG VendorId;
    ULONG DeviceId;
    SIZE_T MaxRegistrationSize;
    SIZE_T MaxWindowSize;
    ULONG FRMRPageCount;
    ULONG MaxInitiatorRequestSge;
    ULONG MaxReceiveRequestSge;
    ULONG MaxReadRequestSge;
    ULONG MaxTransferLength;
    ULONG MaxInlineDataSize;
    ULONG MaxInboundReadLimit;
    ULONG MaxOutboundReadLimit;
    ULONG MaxReceiveQueueDepth;
    ULONG MaxInitiatorQueueDepth;
    ULONG MaxSrqDepth;        /* 0 would mean: no SRQ */
    ULONG MaxCqDepth;
    ULONG LargeRequestThreshold;
    ULONG MaxCallerData;
    ULONG MaxCalleeData;
    ULONG AdapterFlags;       /* NDK_ADAPTER_FLAG_* */
    NDK_RDMA_TECHNOLOGY RdmaTechnology;
} NDK_ADAPTER_INFO;

/* ---- the adapter and its dispatch table ------------------------------------ */
typedef struct _NDK_ADAPTER NDK_ADAPTER;

typedef struct _GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
} GUID;

typedef struct _NDK_EXTENSION_INTERFACE {
    const void *Dispatch;
} NDK_EXTENSION_INTERFACE;

/* NdkQueryExtension: STATUS_NOT_SUPPORTED (no extensions exist). */
typedef NTSTATUS (SOFTROCE_NDKAPI *NDK_FN_QUERY_EXTENSION_INTERFACE)(
    NDK_OBJECT_HEADER *pNdkObject, const GUID *ExtensionInterfaceID,
    NDK_VERSION ExtensionInterfaceVersion, NDK_EXTENSION_INTERFACE *pExtensionInterface);

/* NdkQueryAdapterInfo (PASSIVE_LEVEL): NULL pBufferSize -> INVALID_PARAMETER;
 * NULL pInfo or *pBufferSize < sizeof(NDK_ADAPTER_INFO) -> BUFFER_TOO_SMALL
 * with the required size in *pBufferSize; else SUCCESS. */
typedef NTSTATUS (SOFTROCE_NDKAPI *NDK_FN_QUERY_ADAPTER_INFO)(
    NDK_ADAPTER *pNdkAdapter, NDK_ADAPTER_INFO *pInfo, ULONG *pBufferSize);

/* ---- data types ------------------------------------------------------------ */
typedef int64_t NDK_LOGICAL_ADDRESS;

/* The Windows x64 MDL header; build hosted ones with softroce_build_mdl. */
typedef struct _MDL {
    struct _MDL *Next;
    int16_t Size;
    int16_t MdlFlags;
    USHORT AllocationProcessorNumber;
    USHORT Reserved;
    void *Process;
    void *MappedSystemVa;
    void *StartVa;
    ULONG ByteCount;
    ULONG ByteOffset;
} MDL;

typedef struct _NDK_SGE {
    union {
        void *VirtualAddress;
        NDK_LOGICAL_ADDRESS LogicalAddress;
    } u;
    ULONG Length;
    uint32_t MemoryRegionToken;
} NDK_SGE;

typedef struct _NDK_RESULT {
    NTSTATUS Status;
    ULONG BytesTransferred;
    void *QPContext;
    void *RequestContext;
} NDK_RESULT;

typedef struct _NDK_RESULT_EX {
    NTSTATUS Status;
    ULONG BytesTransferred;
    void *QPContext;
    void *RequestContext;
    uint32_t Type;              /* NDK_OPERATION_TYPE */
    ULONG ProviderErrorCode;    /* 0 on success */
    uintptr_t TypeSpecificCompletionOutput;
} NDK_RESULT_EX;

#define NdkOperationTypeReceive 0x1u
#define NdkOperationTypeSend 0x2u
#define NdkOperationTypeReceiveAndInvalidate 0x8001u

typedef struct _NDK_LOGICAL_ADDRESS_MAPPING {
    void *AdapterContext;
    ULONG AdapterPageCount;
    NDK_LOGICAL_ADDRESS AdapterPageArray[1]; /* AdapterPageCount entries */
} NDK_LOGICAL_ADDRESS_MAPPING;

typedef struct _GROUP_AFFINITY {
    uintptr_t Mask;
    USHORT Group;
    USHORT Reserved[3];
} GROUP_AFFINITY;

#define NDK_CQ_NOTIFY_ERRORS 0u
#define NDK_CQ_NOTIFY_ANY 1u
#define NDK_CQ_NOTIFY_SOLICITED 2u
#define NDK_MR_FLAG_ALLOW_LOCAL_READ 0x0u
#define NDK_MR_FLAG_ALLOW_LOCAL_WRITE 0x1u
#define NDK_MR_FLAG_ALLOW_REMOTE_READ 0x2u
#define NDK_MR_FLAG_ALLOW_REMOTE_WRITE 0x5u
#define NDK_MR_FLAG_RDMA_READ_SINK 0x8u

/* ---- consumer callbacks ------------------------------------------------------- */
typedef void (SOFTROCE_NDKAPI *NDK_FN_REQUEST_COMPLETION)(void *Context, NTSTATUS Status);
typedef void (SOFTROCE_NDKAPI *NDK_FN_CREATE_COMPLETION)(void *Context, NTSTATUS Status,
                                                         NDK_OBJECT_HEADER *pNdkObject);
typedef void (SOFTROCE_NDKAPI *NDK_FN_CLOSE_COMPLETION)(void *Context);
typedef void (SOFTROCE_NDKAPI *NDK_FN_CQ_NOTIFICATION_CALLBACK)(void *Context, NTSTATUS CqStatus);
typedef void (SOFTROCE_NDKAPI *NDK_FN_SRQ_NOTIFICATION_CALLBACK)(void *Context, NTSTATUS Status);

/* NdkCloseXxx of every object but the adapter: SUCCESS (closed, no
 * callback) or PENDING (CloseCompletion later, as the object's last
 * callback: while children are open or a callback runs). */
typedef NTSTATUS (SOFTROCE_NDKAPI *NDK_FN_CLOSE_OBJECT)(NDK_OBJECT_HEADER *pNdkObject,
                                                       NDK_FN_CLOSE_COMPLETION CloseCompletion,
                                                       void *RequestContext);

/* ---- objects --------------------------------------------------------------------- */
#define SOFTROCE_NDK_OBJECT(NAME, TABLE) \
    typedef struct _##TABLE TABLE;     \
    typedef struct _##NAME {           \
        NDK_OBJECT_HEADER Header;      \
        const TABLE *Dispatch;         \
    } NAME;
SOFTROCE_NDK_OBJECT(NDK_PD, NDK_PD_DISPATCH)
SOFTROCE_NDK_OBJECT(NDK_CQ, NDK_CQ_DISPATCH)
SOFTROCE_NDK_OBJECT(NDK_QP, NDK_QP_DISPATCH)
SOFTROCE_NDK_OBJECT(NDK_SRQ, NDK_SRQ_DISPATCH)
SOFTROCE_NDK_OBJECT(NDK_MR, NDK_MR_DISPATCH)
SOFTROCE_NDK_OBJECT(NDK_MW, NDK_MW_DISPATCH)
SOFTROCE_NDK_OBJECT(NDK_CONNECTOR, NDK_CONNECTOR_DISPATCH)
SOFTROCE_NDK_OBJECT(NDK_LISTENER, NDK_LISTENER_DISPATCH)
SOFTROCE_NDK_OBJECT(NDK_SHARED_ENDPOINT, NDK_SHARED_ENDPOINT_DISPATCH)

typedef void (SOFTROCE_NDKAPI *NDK_FN_CONNECT_EVENT_CALLBACK)(void *Context,
                                                              NDK_CONNECTOR *pConnector);

/* All nine entries in ABI order (behaviour: docs/COMPLIANCE.md). */
typedef struct _NDK_ADAPTER_DISPATCH {
    NDK_FN_QUERY_EXTENSION_INTERFACE NdkQueryExtension;
    NDK_FN_QUERY_ADAPTER_INFO NdkQueryAdapterInfo;
    NTSTATUS (SOFTROCE_NDKAPI *NdkCreateCq)(NDK_ADAPTER *pNdkAdapter, ULONG CqDepth,
                                            NDK_FN_CQ_NOTIFICATION_CALLBACK CqNotification,
                                            void *CqNotificationContext, GROUP_AFFINITY *Affinity,
                                            NDK_FN_CREATE_COMPLETION CreateCompletion,
                                            void *RequestContext, NDK_CQ **ppNdkCq);
    NTSTATUS (SOFTROCE_NDKAPI *NdkCreatePd)(NDK_ADAPTER *pNdkAdapter,
                                            NDK_FN_CREATE_COMPLETION CreateCompletion,
                                            void *RequestContext, NDK_PD **ppNdkPd);
    void *NdkCreateSharedEndpoint; /* see src/abi/callbacks.rs */
    NTSTATUS (SOFTROCE_NDKAPI *NdkCreateConnector)(NDK_ADAPTER *pNdkAdapter,
                                                   NDK_FN_CREATE_COMPLETION CreateCompletion,
                                                   void *RequestContext,
                                                   NDK_CONNECTOR **ppNdkConnector);
    NTSTATUS (SOFTROCE_NDKAPI *NdkCreateListener)(NDK_ADAPTER *pNdkAdapter,
                                                  NDK_FN_CONNECT_EVENT_CALLBACK ConnectEvent,
                                                  void *ConnectEventContext,
                                                  NDK_FN_CREATE_COMPLETION CreateCompletion,
                                                  void *RequestContext,
                                                  NDK_LISTENER **ppNdkListener);
    NTSTATUS (SOFTROCE_NDKAPI *NdkBuildLAM)(NDK_ADAPTER *pNdkAdapter, MDL *Mdl, SIZE_T Length,
                                            NDK_FN_REQUEST_COMPLETION RequestCompletion,
                                            void *RequestContext,
                                            NDK_LOGICAL_ADDRESS_MAPPING *LogicalAddressMapping,
                                            ULONG *pLAMSize, ULONG *pFBO);
    void (SOFTROCE_NDKAPI *NdkReleaseLAM)(NDK_ADAPTER *pNdkAdapter,
                                          NDK_LOGICAL_ADDRESS_MAPPING *LogicalAddressMapping);
} NDK_ADAPTER_DISPATCH;

struct _NDK_PD_DISPATCH {
    NDK_FN_CLOSE_OBJECT NdkClosePd;
    NDK_FN_QUERY_EXTENSION_INTERFACE NdkQueryExtension;
    NTSTATUS (SOFTROCE_NDKAPI *NdkCreateMr)(NDK_PD *pNdkPd, BOOLEAN FastRegister,
                                            NDK_FN_CREATE_COMPLETION CreateCompletion,
                                            void *RequestContext, NDK_MR **ppNdkMr);
    NTSTATUS (SOFTROCE_NDKAPI *NdkCreateMw)(NDK_PD *pNdkPd,
                                            NDK_FN_CREATE_COMPLETION CreateCompletion,
                                            void *RequestContext, NDK_MW **ppNdkMw);
    NTSTATUS (SOFTROCE_NDKAPI *NdkCreateSrq)(NDK_PD *pNdkPd, ULONG SrqDepth,
                                             ULONG MaxReceiveRequestSge, ULONG NotifyThreshold,
                                             NDK_FN_SRQ_NOTIFICATION_CALLBACK SrqNotification,
                                             void *SrqNotificationContext,
                                             GROUP_AFFINITY *Affinity,
                                             NDK_FN_CREATE_COMPLETION CreateCompletion,
                                             void *RequestContext, NDK_SRQ **ppNdkSrq);
    NTSTATUS (SOFTROCE_NDKAPI *NdkCreateQp)(NDK_PD *pNdkPd, NDK_CQ *pReceiveCq,
                                            NDK_CQ *pInitiatorCq, void *QPContext,
                                            ULONG ReceiveQueueDepth, ULONG InitiatorQueueDepth,
                                            ULONG MaxReceiveRequestSge,
                                            ULONG MaxInitiatorRequestSge, ULONG InlineDataSize,
                                            NDK_FN_CREATE_COMPLETION CreateCompletion,
                                            void *RequestContext, NDK_QP **ppNdkQp);
    NTSTATUS (SOFTROCE_NDKAPI *NdkCreateQpWithSrq)(NDK_PD *pNdkPd, NDK_CQ *pReceiveCq,
                                                   NDK_CQ *pInitiatorCq, NDK_SRQ *pSrq,
                                                   void *QPContext, ULONG InitiatorQueueDepth,
                                                   ULONG MaxInitiatorRequestSge,
                                                   ULONG InlineDataSize,
                                                   NDK_FN_CREATE_COMPLETION CreateCompletion,
                                                   void *RequestContext, NDK_QP **ppNdkQp);
    void (SOFTROCE_NDKAPI *NdkGetPrivilegedMemoryRegionToken)(NDK_PD *pNdkPd, uint32_t *pToken);
};

struct _NDK_CQ_DISPATCH {
    NDK_FN_CLOSE_OBJECT NdkCloseCq;
    NDK_FN_QUERY_EXTENSION_INTERFACE NdkQueryExtension;
    NTSTATUS (SOFTROCE_NDKAPI *NdkResizeCq)(NDK_CQ *pNdkCq, ULONG CqDepth,
                                            NDK_FN_REQUEST_COMPLETION RequestCompletion,
                                            void *RequestContext);
    void (SOFTROCE_NDKAPI *NdkArmCq)(NDK_CQ *pNdkCq, ULONG TriggerType);
    ULONG (SOFTROCE_NDKAPI *NdkGetCqResults)(NDK_CQ *pNdkCq, NDK_RESULT *pResult, ULONG nResults);
    NTSTATUS (SOFTROCE_NDKAPI *NdkControlCqInterruptModeration)(NDK_CQ *pNdkCq,
                                                                ULONG ModerationInterval,
                                                                ULONG ModerationCount);
    ULONG (SOFTROCE_NDKAPI *NdkGetCqResultsEx)(NDK_CQ *pNdkCq, NDK_RESULT_EX *pResult,
                                               ULONG nResults);
};

struct _NDK_QP_DISPATCH {
    NDK_FN_CLOSE_OBJECT NdkCloseQp;
    NDK_FN_QUERY_EXTENSION_INTERFACE NdkQueryExtension;
    void (SOFTROCE_NDKAPI *NdkFlush)(NDK_QP *pNdkQp);
    NTSTATUS (SOFTROCE_NDKAPI *NdkSend)(NDK_QP *pNdkQp, void *RequestContext,
                                        const NDK_SGE *pSgl, ULONG nSge, ULONG Flags);
    NTSTATUS (SOFTROCE_NDKAPI *NdkReceive)(NDK_QP *pNdkQp, void *RequestContext,
                                           const NDK_SGE *pSgl, ULONG nSge);
    void *NdkBind, *NdkFastRegister, *NdkInvalidate, *NdkRead, *NdkWrite,
        *NdkSendAndInvalidate; /* see src/abi/callbacks.rs */
};

struct _NDK_SRQ_DISPATCH {
    NDK_FN_CLOSE_OBJECT NdkCloseSrq;
    NDK_FN_QUERY_EXTENSION_INTERFACE NdkQueryExtension;
    NTSTATUS (SOFTROCE_NDKAPI *NdkModifySrq)(NDK_SRQ *pNdkSrq, ULONG SrqDepth,
                                             ULONG NotifyThreshold,
                                             NDK_FN_REQUEST_COMPLETION RequestCompletion,
                                             void *RequestContext);
    NTSTATUS (SOFTROCE_NDKAPI *NdkSrqReceive)(NDK_SRQ *pNdkSrq, void *RequestContext,
                                              const NDK_SGE *pSgl, ULONG nSge);
};

struct _NDK_MR_DISPATCH {
    NDK_FN_CLOSE_OBJECT NdkCloseMr;
    NDK_FN_QUERY_EXTENSION_INTERFACE NdkQueryExtension;
    NTSTATUS (SOFTROCE_NDKAPI *NdkRegisterMr)(NDK_MR *pNdkMr, MDL *Mdl, SIZE_T Length,
                                              ULONG Flags,
                                              NDK_FN_REQUEST_COMPLETION RequestCompletion,
                                              void *RequestContext);
    NTSTATUS (SOFTROCE_NDKAPI *NdkDeregisterMr)(NDK_MR *pNdkMr,
                                                NDK_FN_REQUEST_COMPLETION RequestCompletion,
                                                void *RequestContext);
    NTSTATUS (SOFTROCE_NDKAPI *NdkInitializeFastRegisterMr)(
        NDK_MR *pNdkMr, ULONG AdapterPageCount, BOOLEAN RemoteAccess,
        NDK_FN_REQUEST_COMPLETION RequestCompletion, void *RequestContext);
    uint32_t (SOFTROCE_NDKAPI *NdkGetRemoteTokenFromMr)(NDK_MR *pNdkMr);
    uint32_t (SOFTROCE_NDKAPI *NdkGetLocalTokenFromMr)(NDK_MR *pNdkMr);
};

struct _NDK_MW_DISPATCH {
    NDK_FN_CLOSE_OBJECT NdkCloseMw;
    NDK_FN_QUERY_EXTENSION_INTERFACE NdkQueryExtension;
    uint32_t (SOFTROCE_NDKAPI *NdkGetRemoteTokenFromMw)(NDK_MW *pNdkMw);
};

/* The listener, connector and shared endpoint tables: close first, then
 * QueryExtension; the rest in src/abi/dispatch.rs. */
struct _NDK_LISTENER_DISPATCH {
    NDK_FN_CLOSE_OBJECT NdkCloseListener;
    NDK_FN_QUERY_EXTENSION_INTERFACE NdkQueryExtension;
    void *NdkListen, *NdkGetListenerLocalAddress, *NdkControlConnectEvents;
};
struct _NDK_CONNECTOR_DISPATCH {
    NDK_FN_CLOSE_OBJECT NdkCloseConnector;
    NDK_FN_QUERY_EXTENSION_INTERFACE NdkQueryExtension;
    void *Rest[11];
};
struct _NDK_SHARED_ENDPOINT_DISPATCH {
    NDK_FN_CLOSE_OBJECT NdkCloseSharedEndpoint;
    NDK_FN_QUERY_EXTENSION_INTERFACE NdkQueryExtension;
    void *NdkGetSharedEndpointLocalAddress;
};

struct _NDK_ADAPTER {
    NDK_OBJECT_HEADER Header;
    const NDK_ADAPTER_DISPATCH *Dispatch;
};

/* ---- entry points (the hosted OPEN/CLOSE_NDK_ADAPTER_HANDLER) -------------- */

/* Opens an adapter instance bound to an IPv4 or IPv6 literal. Instances
 * opened on one address in one process share one network (carrier, CM,
 * QP numbers, listener ports) and one real-time platform, as the NDK
 * instances of one NDIS miniport adapter do; softroce_open_adapter_on
 * shares per (platform, address). Each instance has its own memory
 * tables and tokens. The last close of an address stops its network.
 * `requested` is
 * the Major the caller speaks and the lowest Minor it can use: only Major 2
 * with Minor <= 1 is accepted, and the adapter then runs at 2.1.
 * NULL adapter/ip_address -> STATUS_INVALID_PARAMETER; bad version ->
 * NDIS_STATUS_BAD_VERSION; bad literal or unspecified/multicast/broadcast
 * address -> STATUS_INVALID_ADDRESS; no memory -> STATUS_INSUFFICIENT_RESOURCES.
 * *adapter is NULL on any failure. PASSIVE_LEVEL. */
NTSTATUS softroce_open_adapter(const char *ip_address, NDK_VERSION requested,
                               NDK_ADAPTER **adapter);

/* Closes an adapter. Blocking: it runs (virtual platform) or waits for
 * (real platform) the deferred work of every object created from it, so
 * when it returns no callback on the adapter or its descendants runs or is
 * queued. NULL is ignored. */
void softroce_close_adapter(NDK_ADAPTER *adapter);

/* ---- the test platform (docs/HOSTED-API.md) --------------------------------- */
typedef struct softroce_platform softroce_platform;

/* A virtual-clock platform: callbacks run only inside run_pending/advance,
 * on the calling thread, at (hosted) DISPATCH_LEVEL; seeded randomness. */
softroce_platform *softroce_platform_virtual(uint64_t seed);
/* A real-time platform with its own DPC worker thread. */
softroce_platform *softroce_platform_real(void);
/* Drops the handle (open adapters keep the platform alive). */
void softroce_platform_release(softroce_platform *platform);
/* Virtual: run what is queued now, return how many ran. Real: wait until
 * what was queued before the call has run, return 0. */
size_t softroce_platform_run_pending(const softroce_platform *platform);
/* Virtual: move time forward by ns, running what falls due. Real: sleep. */
size_t softroce_platform_advance_ns(const softroce_platform *platform, uint64_t ns);
/* Pool books: bytes / allocations outstanding over all tags (0 when every
 * adapter on the platform is closed and nothing leaked). */
size_t softroce_platform_pool_bytes(const softroce_platform *platform);
size_t softroce_platform_pool_objects(const softroce_platform *platform);
/* Fault injection: refuse charges above this total (SIZE_MAX: no limit). */
void softroce_platform_set_pool_limit(const softroce_platform *platform, size_t bytes);
/* Adapters opened on the platform from now on use the Ethernet frame link on
 * interface ifname (AF_PACKET, ARP, IPv4; CAP_NET_RAW) instead of the UDP
 * carrier; NULL goes back to UDP. NULL platform -> STATUS_INVALID_PARAMETER. */
NTSTATUS softroce_platform_use_link(const softroce_platform *platform, const char *ifname);
/* As softroce_open_adapter, on a given platform. */
NTSTATUS softroce_open_adapter_on(const softroce_platform *platform, const char *ip_address,
                                  NDK_VERSION requested, NDK_ADAPTER **adapter);
/* on != 0: entries with a completion callback answer STATUS_PENDING on
 * success and complete later from the object's DPC (default: inline). */
NTSTATUS softroce_set_deferred_completions(NDK_ADAPTER *adapter, int on);
/* Port 0 binds pick from first..last only (within 49152-65535). */
NTSTATUS softroce_set_ephemeral_ports(NDK_ADAPTER *adapter, uint16_t first, uint16_t last);
/* The RoCE path MTU of the adapter's network (shared by every instance on
 * it), in bytes: 256, 512, 1024 (the default), 2048 or 4096; anything else
 * is STATUS_INVALID_PARAMETER and changes nothing. Connections set up from
 * now on ask for it (active) or run at min(REQ, it) (passive); capped by
 * the carrier's IP MTU where known. *in_effect (if not NULL) gets the MTU
 * in effect. */
NTSTATUS softroce_set_roce_mtu(NDK_ADAPTER *adapter, uint32_t bytes, uint32_t *in_effect);
/* The RoCE path MTU in effect in bytes (0: NULL or foreign adapter). */
uint32_t softroce_roce_mtu(NDK_ADAPTER *adapter);
/* IRQL rule breaks logged by the hosted IRQL books (process-wide). */
size_t softroce_irql_violations(void);
void softroce_irql_clear(void);

/* Describes length bytes at buffer as a hosted MDL (non-paged-pool style:
 * MappedSystemVa = buffer) whose consumer-visible virtual address is va
 * (0: the buffer's own address), chained to next (may be NULL). */
NTSTATUS softroce_build_mdl(MDL *mdl, uint64_t va, void *buffer, uint32_t length, MDL *next);

/* TEST ONLY (docs/HOSTED-API.md): connect two QPs of hosted adapters without
 * the connection manager, through a seeded simulated link (real ICRC over a
 * synthetic IPv4 header, delivery from the peer platform's timers). Both QPs
 * should live on one platform (one clock). options may be NULL. */
typedef struct softroce_pair_options {
    uint64_t seed;
    uint32_t loss_ppm, reorder_ppm, duplicate_ppm, corrupt_ppm;
    uint64_t delay_ns;          /* 0: 1 us */
    uint32_t path_mtu;          /* 256..4096; 0: 1024 */
    uint8_t local_ack_timeout;  /* 0: 10 (~4 ms) */
    uint8_t retry_count;        /* 0: 7 (infinite) */
    uint8_t rnr_retry;          /* 0: 7 (infinite) */
    uint8_t min_rnr_timer;      /* 0: 1 (10 us) */
    uint32_t read_limit;        /* IRD = ORD, 1..16; 0: 16 */
} softroce_pair_options;
NTSTATUS softroce_debug_pair_qps(NDK_QP *a, NDK_QP *b, const softroce_pair_options *options);
/* TEST ONLY: the link counters of the pair made with a as its first QP,
 * out[16]: a->b then b->a, each sent, delivered, lost, duplicated,
 * reordered, corrupted, icrc_drops, corrupted_masked. */
void softroce_debug_pair_stats(const NDK_QP *a, uint64_t *out);

/* ---- NDK statistics and tables (the OID_NDK_* twins, docs/HOSTED-API.md) ----- */
/* NDIS_NDK_PERFORMANCE_COUNTERS (ntddndis.h): OID_NDK_STATISTICS's CounterSet. */
typedef struct NDIS_NDK_PERFORMANCE_COUNTERS {
    uint64_t Connect, Accept, ConnectFailure, ConnectionError, ActiveConnection;
    uint64_t Reserved01, Reserved02, Reserved03, Reserved04, Reserved05, Reserved06, Reserved07,
        Reserved08, Reserved09, Reserved10, Reserved11, Reserved12, Reserved13, Reserved14,
        Reserved15, Reserved16, Reserved17, Reserved18, Reserved19, Reserved20;
    uint64_t CQError, RDMAInOctets, RDMAOutOctets, RDMAInFrames, RDMAOutFrames;
} NDIS_NDK_PERFORMANCE_COUNTERS;
/* SOCKADDR_INET (ws2ipdef.h): a SOCKADDR_IN (family 2) or SOCKADDR_IN6
 * (family 23), port and address in network order. */
typedef union SOCKADDR_INET {
    uint16_t si_family;
    uint8_t bytes[28];
    uint32_t align_;
} SOCKADDR_INET;
typedef struct NDIS_NDK_CONNECTION_ENTRY {
    SOCKADDR_INET Local;
    SOCKADDR_INET Remote;
    BOOLEAN UserModeOwner; /* FALSE: kernel consumers */
    ULONG OwnerPid;        /* 0 */
} NDIS_NDK_CONNECTION_ENTRY;
typedef struct NDIS_NDK_LOCAL_ENDPOINT_ENTRY {
    SOCKADDR_INET Local;
    BOOLEAN UserModeOwner;
    BOOLEAN Listener; /* TRUE: a listener; FALSE: a shared endpoint */
    ULONG OwnerPid;
} NDIS_NDK_LOCAL_ENDPOINT_ENTRY;
_Static_assert(sizeof(NDIS_NDK_PERFORMANCE_COUNTERS) == 240, "counters");
_Static_assert(sizeof(NDIS_NDK_CONNECTION_ENTRY) == 64, "connection entry");
_Static_assert(sizeof(NDIS_NDK_LOCAL_ENDPOINT_ENTRY) == 36, "local endpoint entry");
/* The adapter's NDK performance counters (what is counted: docs/HOSTED-API.md). */
NTSTATUS softroce_adapter_statistics(NDK_ADAPTER *adapter, NDIS_NDK_PERFORMANCE_COUNTERS *out);
/* Connections being set up or established / listeners and shared endpoints:
 * *count = how many exist, up to capacity written; more ->
 * STATUS_BUFFER_TOO_SMALL. */
NTSTATUS softroce_adapter_connections(NDK_ADAPTER *adapter, NDIS_NDK_CONNECTION_ENTRY *out,
                                      uint32_t capacity, uint32_t *count);
NTSTATUS softroce_adapter_local_endpoints(NDK_ADAPTER *adapter,
                                          NDIS_NDK_LOCAL_ENDPOINT_ENTRY *out,
                                          uint32_t capacity, uint32_t *count);

/* Hosted verbs-compatibility extension, NOT part of NDKPI: connect a QP
 * without the connection manager (as ibv_modify_qp to RTR + RTS), for tools
 * that exchange QPN/PSN out of band (ibv_rc_pingpong). docs/HOSTED-API.md. */
typedef struct softroce_raw_connect {
    uint32_t remote_qpn;
    uint32_t send_psn;          /* first PSN we send (the peer's receive PSN) */
    uint32_t recv_psn;          /* first PSN we expect */
    uint32_t path_mtu;          /* bytes, 256..4096; 0: 1024 */
    uint32_t read_limit;        /* IRD = ORD, 1..16; 0: 1 */
    uint8_t local_ack_timeout;  /* 0: 14 */
    uint8_t retry_count;        /* 0: 7 */
    uint8_t rnr_retry;          /* 0: 7 */
} softroce_raw_connect;
uint32_t softroce_qp_number(NDK_QP *qp);
NTSTATUS softroce_qp_connect_raw(NDK_QP *qp, const char *remote_ip,
                                 const softroce_raw_connect *params);

/* The provider's highest NDK version: {2, 1}. */
NDK_VERSION softroce_version(void);

/* "STATUS_BUFFER_TOO_SMALL" etc.; NULL for an unknown value. Static string. */
const char *softroce_status_name(NTSTATUS status);

#ifdef __cplusplus
}
#endif

#endif /* SOFTROCE_H */
