/*
 * The DLL's entry points and class factory, as COM uses them: DllGetClassObject
 * hands out a factory for CLSID_DeliveryOptimization only, the factory refuses
 * aggregation and counts LockServer, and DllCanUnloadNow says S_FALSE while
 * anything of dosvc lives: an object, a server lock or a listed job
 * (notes/com_decisions.md "Server / factory / manager").
 *
 * Every test starts and ends with nothing alive, so each one checks that the
 * DLL is unloadable before it begins: a leak in one test shows up in the next.
 */
#include "com_test.h"

static const CLSID CLSID_unknown = { 0x0badc0de, 0x1234, 0x5678, { 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78 } };

static HRESULT can_unload_now(void)
{
    can_unload_fn can_unload = dosvc_can_unload_now();
    assert_non_null(can_unload);
    return can_unload();
}

static IClassFactory *class_factory(void)
{
    get_class_object_fn get = dosvc_get_class_object();
    IClassFactory *factory = NULL;

    assert_non_null(get);
    assert_hr(S_OK, get(&CLSID_DeliveryOptimization, &IID_IClassFactory, (void **)&factory));
    assert_non_null(factory);
    return factory;
}

/* ---- DllGetClassObject ------------------------------------------------------ */

static void test_get_class_object_gives_class_factory_for_delivery_optimization(void **state)
{
    IClassFactory *factory = class_factory();
    IUnknown *unknown = NULL;

    assert_hr(S_OK, IClassFactory_QueryInterface(factory, &IID_IUnknown, (void **)&unknown));
    assert_ptr_equal(unknown, factory);
    IUnknown_Release(unknown);
    IClassFactory_Release(factory);
    assert_hr(S_OK, can_unload_now());
}

static void test_get_class_object_gives_factory_as_iunknown(void **state)
{
    get_class_object_fn get = dosvc_get_class_object();
    IUnknown *unknown = NULL;
    IClassFactory *factory = NULL;

    assert_hr(S_OK, get(&CLSID_DeliveryOptimization, &IID_IUnknown, (void **)&unknown));
    assert_non_null(unknown);
    assert_hr(S_OK, IUnknown_QueryInterface(unknown, &IID_IClassFactory, (void **)&factory));
    assert_non_null(factory);
    IClassFactory_Release(factory);
    IUnknown_Release(unknown);
}

static void test_get_class_object_for_unknown_clsid_fails_with_class_not_available(void **state)
{
    get_class_object_fn get = dosvc_get_class_object();
    void *out = (void *)0xdeadbeef;

    assert_hr(CLASS_E_CLASSNOTAVAILABLE, get(&CLSID_unknown, &IID_IClassFactory, &out));
    assert_null(out);
}

static void test_get_class_object_with_null_out_fails_with_pointer(void **state)
{
    get_class_object_fn get = dosvc_get_class_object();

    assert_hr(E_POINTER, get(&CLSID_DeliveryOptimization, &IID_IClassFactory, NULL));
}

static void test_get_class_object_for_interface_factory_lacks_fails_with_no_interface(void **state)
{
    get_class_object_fn get = dosvc_get_class_object();
    void *out = (void *)0xdeadbeef;

    assert_hr(E_NOINTERFACE, get(&CLSID_DeliveryOptimization, &IID_IBackgroundCopyManager, &out));
    assert_null(out);
    assert_hr(S_OK, can_unload_now());
}

/* ---- IClassFactory ------------------------------------------------------------ */

static void test_factory_creates_manager(void **state)
{
    IClassFactory *factory = class_factory();
    IBackgroundCopyManager *manager = NULL;

    assert_hr(S_OK, IClassFactory_CreateInstance(factory, NULL, &IID_IBackgroundCopyManager, (void **)&manager));
    assert_non_null(manager);
    IBackgroundCopyManager_Release(manager);
    IClassFactory_Release(factory);
}

static void test_factory_refuses_aggregation(void **state)
{
    IClassFactory *factory = class_factory();
    IUnknown *out = (IUnknown *)0xdeadbeef;

    /* Any non-NULL outer asks for aggregation; the factory itself will do as one. */
    assert_hr(CLASS_E_NOAGGREGATION,
              IClassFactory_CreateInstance(factory, (IUnknown *)factory, &IID_IUnknown, (void **)&out));
    assert_null(out);
    IClassFactory_Release(factory);
    assert_hr(S_OK, can_unload_now());
}

static void test_factory_create_instance_for_unsupported_interface_fails_with_no_interface(void **state)
{
    IClassFactory *factory = class_factory();
    void *out = (void *)0xdeadbeef;

    assert_hr(E_NOINTERFACE, IClassFactory_CreateInstance(factory, NULL, &IID_IBackgroundCopyJob, &out));
    assert_null(out);
    IClassFactory_Release(factory);
    /* the manager made and dropped inside CreateInstance is gone too */
    assert_hr(S_OK, can_unload_now());
}

/* ---- DllCanUnloadNow ------------------------------------------------------------ */

static void test_can_unload_now_with_nothing_alive(void **state)
{
    assert_hr(S_OK, can_unload_now());
}

static void test_lock_server_keeps_dll_loaded_until_unlocked(void **state)
{
    IClassFactory *factory;

    assert_hr(S_OK, can_unload_now());
    factory = class_factory();
    assert_hr(S_OK, IClassFactory_LockServer(factory, TRUE));
    IClassFactory_Release(factory);
    assert_hr(S_FALSE, can_unload_now());

    factory = class_factory();
    assert_hr(S_OK, IClassFactory_LockServer(factory, FALSE));
    IClassFactory_Release(factory);
    assert_hr(S_OK, can_unload_now());
}

static void test_lock_server_counts_locks(void **state)
{
    IClassFactory *factory = class_factory();

    assert_hr(S_OK, IClassFactory_LockServer(factory, TRUE));
    assert_hr(S_OK, IClassFactory_LockServer(factory, TRUE));
    assert_hr(S_OK, IClassFactory_LockServer(factory, FALSE));
    IClassFactory_Release(factory);
    assert_hr(S_FALSE, can_unload_now());      /* one lock left */

    factory = class_factory();
    assert_hr(S_OK, IClassFactory_LockServer(factory, FALSE));
    IClassFactory_Release(factory);
    assert_hr(S_OK, can_unload_now());
}

static void test_live_object_keeps_dll_loaded(void **state)
{
    IBackgroundCopyManager *manager;

    assert_hr(S_OK, can_unload_now());
    manager = dosvc_manager();
    assert_hr(S_FALSE, can_unload_now());
    IBackgroundCopyManager_Release(manager);
    assert_hr(S_OK, can_unload_now());
}

static void test_listed_job_keeps_dll_loaded_until_cancelled(void **state)
{
    IBackgroundCopyManager *manager;
    IBackgroundCopyJob *job;
    GUID id;

    assert_hr(S_OK, can_unload_now());
    manager = dosvc_manager();
    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"kept", BG_JOB_TYPE_DOWNLOAD, &id, &job));
    IBackgroundCopyManager_Release(manager);
    IBackgroundCopyJob_Release(job);
    /* No object is alive any more, but the job is still in the queue. */
    assert_hr(S_FALSE, can_unload_now());

    manager = dosvc_manager();
    assert_hr(S_OK, IBackgroundCopyManager_GetJob(manager, &id, &job));
    assert_hr(S_OK, IBackgroundCopyJob_Cancel(job));
    assert_hr(S_FALSE, can_unload_now());      /* objects still alive */
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
    assert_hr(S_OK, can_unload_now());
}

static void test_completed_job_does_not_keep_dll_loaded(void **state)
{
    IBackgroundCopyManager *manager = dosvc_manager();
    IBackgroundCopyJob *job;
    GUID id;

    assert_hr(S_OK, IBackgroundCopyManager_CreateJob(manager, L"done", BG_JOB_TYPE_DOWNLOAD, &id, &job));
    assert_hr(S_OK, IBackgroundCopyJob_Complete(job));     /* no files: S_OK */
    IBackgroundCopyJob_Release(job);
    IBackgroundCopyManager_Release(manager);
    assert_hr(S_OK, can_unload_now());
}

static int setup_com(void **state)
{
    return FAILED(CoInitializeEx(NULL, COINIT_MULTITHREADED)) ? -1 : 0;
}

static int teardown_com(void **state)
{
    CoUninitialize();
    return 0;
}

int main(void)
{
    const struct CMUnitTest get_class_object[] = {
        cmocka_unit_test(test_get_class_object_gives_class_factory_for_delivery_optimization),
        cmocka_unit_test(test_get_class_object_gives_factory_as_iunknown),
        cmocka_unit_test(test_get_class_object_for_unknown_clsid_fails_with_class_not_available),
        cmocka_unit_test(test_get_class_object_with_null_out_fails_with_pointer),
        cmocka_unit_test(test_get_class_object_for_interface_factory_lacks_fails_with_no_interface),
    };
    const struct CMUnitTest class_factory_tests[] = {
        cmocka_unit_test(test_factory_creates_manager),
        cmocka_unit_test(test_factory_refuses_aggregation),
        cmocka_unit_test(test_factory_create_instance_for_unsupported_interface_fails_with_no_interface),
    };
    const struct CMUnitTest can_unload[] = {
        cmocka_unit_test(test_can_unload_now_with_nothing_alive),
        cmocka_unit_test(test_lock_server_keeps_dll_loaded_until_unlocked),
        cmocka_unit_test(test_lock_server_counts_locks),
        cmocka_unit_test(test_live_object_keeps_dll_loaded),
        cmocka_unit_test(test_listed_job_keeps_dll_loaded_until_cancelled),
        cmocka_unit_test(test_completed_job_does_not_keep_dll_loaded),
    };
    int failed = 0;

    failed += cmocka_run_group_tests_name("DllGetClassObject", get_class_object, setup_com, teardown_com);
    failed += cmocka_run_group_tests_name("IClassFactory", class_factory_tests, setup_com, teardown_com);
    failed += cmocka_run_group_tests_name("DllCanUnloadNow", can_unload, setup_com, teardown_com);
    return failed;
}
