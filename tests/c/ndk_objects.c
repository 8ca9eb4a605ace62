/*
 * A C consumer of softroce.h driving the NDK objects through their dispatch
 * tables on a virtual-clock platform: PD, CQ, MR (hosted MDL), QP, receive
 * + flush completions, an ANY arm and its notification, results Ex, a
 * pending PD close completing after its children, and balanced pool books
 * after adapter close. Prints "PASS" last; exit 0 only if every check held.
 */
#include "softroce.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64) || defined(__aarch64__)
_Static_assert(sizeof(MDL) == 0x30, "MDL");
_Static_assert(offsetof(MDL, MdlFlags) == 0x0A, "MDL.MdlFlags");
_Static_assert(offsetof(MDL, MappedSystemVa) == 0x18, "MDL.MappedSystemVa");
_Static_assert(offsetof(MDL, StartVa) == 0x20, "MDL.StartVa");
_Static_assert(offsetof(MDL, ByteCount) == 0x28, "MDL.ByteCount");
_Static_assert(offsetof(MDL, ByteOffset) == 0x2C, "MDL.ByteOffset");
_Static_assert(sizeof(NDK_SGE) == 0x10, "NDK_SGE");
_Static_assert(offsetof(NDK_SGE, MemoryRegionToken) == 0x0C, "NDK_SGE.Token");
_Static_assert(sizeof(NDK_RESULT) == 0x18, "NDK_RESULT");
_Static_assert(sizeof(NDK_RESULT_EX) == 0x28, "NDK_RESULT_EX");
_Static_assert(offsetof(NDK_RESULT_EX, ProviderErrorCode) == 0x1C, "ProviderErrorCode");
_Static_assert(offsetof(NDK_RESULT_EX, TypeSpecificCompletionOutput) == 0x20, "TSCO");
_Static_assert(offsetof(NDK_LOGICAL_ADDRESS_MAPPING, AdapterPageArray) == 0x10, "LAM");
_Static_assert(sizeof(NDK_PD) == 0x30 && sizeof(NDK_QP) == 0x30, "objects");
_Static_assert(sizeof(NDK_PD_DISPATCH) == 0x40, "PD table");
_Static_assert(sizeof(NDK_CQ_DISPATCH) == 0x38, "CQ table");
_Static_assert(sizeof(NDK_QP_DISPATCH) == 0x58, "QP table");
_Static_assert(sizeof(NDK_SRQ_DISPATCH) == 0x20, "SRQ table");
_Static_assert(sizeof(NDK_MR_DISPATCH) == 0x38, "MR table");
_Static_assert(sizeof(NDK_MW_DISPATCH) == 0x18, "MW table");
_Static_assert(sizeof(NDK_LISTENER_DISPATCH) == 0x28, "listener table");
_Static_assert(sizeof(NDK_CONNECTOR_DISPATCH) == 0x68, "connector table");
_Static_assert(sizeof(NDK_SHARED_ENDPOINT_DISPATCH) == 0x18, "SE table");
#endif

static int notifications, closes;
static NTSTATUS last_note = -1;

static void SOFTROCE_NDKAPI on_notify(void *ctx, NTSTATUS s) {
    (void)ctx;
    notifications++;
    last_note = s;
}

static void SOFTROCE_NDKAPI on_close(void *ctx) {
    (void)ctx;
    closes++;
}

int main(void) {
    softroce_platform *p = softroce_platform_virtual(11);
    NDK_ADAPTER *a = NULL;
    NDK_PD *pd = NULL;
    NDK_CQ *cq = NULL;
    NDK_MR *mr = NULL;
    NDK_QP *qp = NULL;
    MDL mdl;
    NDK_SGE sge;
    NDK_RESULT_EX res[4];
    static unsigned char buf[4096];
    uint32_t lkey, priv = 0;
    ULONG n;
    NDK_VERSION v = {2, 1};

    CHECK(p != NULL);
    CHECK_STATUS(softroce_open_adapter_on(p, "198.51.100.1", v, &a), STATUS_SUCCESS);
    if (a == NULL)
        return 1;
    CHECK_STATUS(a->Dispatch->NdkCreatePd(a, NULL, NULL, &pd), STATUS_SUCCESS);
    CHECK(pd->Header.ObjectType == NdkObjectTypePd);
    pd->Dispatch->NdkGetPrivilegedMemoryRegionToken(pd, &priv);
    CHECK(priv != 0);
    CHECK_STATUS(a->Dispatch->NdkCreateCq(a, 0, on_notify, NULL, NULL, NULL, NULL, &cq),
                 STATUS_INVALID_PARAMETER);
    CHECK_STATUS(a->Dispatch->NdkCreateCq(a, 8, on_notify, NULL, NULL, NULL, NULL, &cq),
                 STATUS_SUCCESS);
    CHECK_STATUS(pd->Dispatch->NdkCreateMr(pd, 0, NULL, NULL, &mr), STATUS_SUCCESS);
    CHECK_STATUS(softroce_build_mdl(&mdl, 0x10000000u, buf, sizeof buf, NULL), STATUS_SUCCESS);
    CHECK_STATUS(mr->Dispatch->NdkRegisterMr(mr, &mdl, sizeof buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE,
                                             NULL, NULL),
                 STATUS_SUCCESS);
    lkey = mr->Dispatch->NdkGetLocalTokenFromMr(mr);
    CHECK(lkey != 0 && mr->Dispatch->NdkGetRemoteTokenFromMr(mr) == 0);
    CHECK_STATUS(pd->Dispatch->NdkCreateQp(pd, cq, cq, (void *)0x77, 4, 4, 2, 2, 0, NULL, NULL, &qp),
                 STATUS_SUCCESS);

    memset(&sge, 0, sizeof sge);
    sge.u.LogicalAddress = 0x10000000 + 16; /* the MDL's VA: an index */
    sge.Length = 64;
    sge.MemoryRegionToken = lkey;
    CHECK_STATUS(qp->Dispatch->NdkReceive(qp, (void *)0x1, &sge, 1), STATUS_SUCCESS);
    sge.Length = 5000;
    CHECK_STATUS(qp->Dispatch->NdkReceive(qp, (void *)0x2, &sge, 1), STATUS_ACCESS_VIOLATION);
    cq->Dispatch->NdkArmCq(cq, NDK_CQ_NOTIFY_ANY);
    qp->Dispatch->NdkFlush(qp);
    CHECK(notifications == 0);
    CHECK(softroce_platform_run_pending(p) >= 1);
    CHECK(notifications == 1 && last_note == STATUS_SUCCESS);
    n = cq->Dispatch->NdkGetCqResultsEx(cq, res, 4);
    CHECK(n == 1);
    CHECK(res[0].Status == STATUS_CANCELLED && res[0].RequestContext == (void *)0x1);
    CHECK(res[0].QPContext == (void *)0x77 && res[0].Type == NdkOperationTypeReceive);

    /* PD closes last even when closed first. */
    CHECK_STATUS(pd->Dispatch->NdkClosePd(&pd->Header, on_close, NULL), STATUS_PENDING);
    CHECK_STATUS(qp->Dispatch->NdkCloseQp(&qp->Header, on_close, NULL), STATUS_SUCCESS);
    CHECK_STATUS(mr->Dispatch->NdkCloseMr(&mr->Header, on_close, NULL), STATUS_SUCCESS);
    CHECK(closes == 0);
    softroce_platform_run_pending(p);
    CHECK(closes == 1);
    CHECK_STATUS(cq->Dispatch->NdkCloseCq(&cq->Header, on_close, NULL), STATUS_SUCCESS);
    softroce_close_adapter(a);
    CHECK(softroce_platform_pool_bytes(p) == 0 && softroce_platform_pool_objects(p) == 0);
    CHECK(softroce_irql_violations() == 0);
    softroce_platform_release(p);

    return check_report();
}
