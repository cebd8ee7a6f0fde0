# dnnl_from_jar(<lib_dir_var> <include_dir_var>)
#
# Unpacks org.bytedeco:dnnl:${DNNL_PRESET_VERSION}:${DNNL_PRESET_PLATFORM} from the local Maven repository into
# the build tree (once per jar version), copies libOpenCL.so.1 from org.bytedeco:opencl:${OPENCL_VERSION}
# beside libdnnl.so.3 (libdnnl.so.3 has RUNPATH $ORIGIN/ and needs it), and returns the directory holding
# libdnnl.so.3 / libgomp.so.1 / libOpenCL.so.1 and the include directory.
function(dnnl_from_jar lib_dir_var include_dir_var)
  set(_plat "${DNNL_PRESET_PLATFORM}")
  set(_dnnl_jar "${M2_REPOSITORY}/org/bytedeco/dnnl/${DNNL_PRESET_VERSION}/dnnl-${DNNL_PRESET_VERSION}-${_plat}.jar")
  set(_ocl_jar "${M2_REPOSITORY}/org/bytedeco/opencl/${OPENCL_VERSION}/opencl-${OPENCL_VERSION}-${_plat}.jar")
  foreach(_jar IN ITEMS "${_dnnl_jar}" "${_ocl_jar}")
    if(NOT EXISTS "${_jar}")
      message(FATAL_ERROR
        "Missing ${_jar}\n"
        "Run `mvn -q -DskipTests package` at the repository root first (it downloads the JavaCPP jars), "
        "or point -DM2_REPOSITORY=... / -DDNNL_PRESET_VERSION=... / -DOPENCL_PRESET_VERSION=... at them.")
    endif()
  endforeach()

  set(_dest "${CMAKE_BINARY_DIR}/jars/dnnl-${DNNL_PRESET_VERSION}-${_plat}")
  set(_lib_dir "${_dest}/org/bytedeco/dnnl/${_plat}")
  set(_stamp "${_dest}/unpacked.stamp")
  if(NOT EXISTS "${_stamp}" OR "${_dnnl_jar}" IS_NEWER_THAN "${_stamp}" OR "${_ocl_jar}" IS_NEWER_THAN "${_stamp}")
    message(STATUS "Unpacking ${_dnnl_jar}")
    file(REMOVE_RECURSE "${_dest}")
    file(ARCHIVE_EXTRACT INPUT "${_dnnl_jar}" DESTINATION "${_dest}"
         PATTERNS "org/bytedeco/dnnl/${_plat}/include/*" "org/bytedeco/dnnl/${_plat}/libdnnl.so*"
                  "org/bytedeco/dnnl/${_plat}/libgomp.so*")
    message(STATUS "Unpacking libOpenCL.so.1 from ${_ocl_jar}")
    set(_ocl_tmp "${CMAKE_BINARY_DIR}/jars/opencl-tmp")
    file(REMOVE_RECURSE "${_ocl_tmp}")
    file(ARCHIVE_EXTRACT INPUT "${_ocl_jar}" DESTINATION "${_ocl_tmp}"
         PATTERNS "org/bytedeco/opencl/${_plat}/libOpenCL.so*")
    file(GLOB _ocl_libs "${_ocl_tmp}/org/bytedeco/opencl/${_plat}/libOpenCL.so*")
    if(NOT _ocl_libs)
      message(FATAL_ERROR "${_ocl_jar} holds no org/bytedeco/opencl/${_plat}/libOpenCL.so*")
    endif()
    file(COPY ${_ocl_libs} DESTINATION "${_lib_dir}")
    file(REMOVE_RECURSE "${_ocl_tmp}")
    file(TOUCH "${_stamp}")
  endif()
  foreach(_f IN ITEMS libdnnl.so.3 libgomp.so.1 libOpenCL.so.1 include/oneapi/dnnl/dnnl.hpp)
    if(NOT EXISTS "${_lib_dir}/${_f}")
      message(FATAL_ERROR "${_f} not found in ${_lib_dir} after unpacking ${_dnnl_jar}")
    endif()
  endforeach()
  # Re-run configure when a jar changes.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_dnnl_jar}" "${_ocl_jar}")
  set(${lib_dir_var} "${_lib_dir}" PARENT_SCOPE)
  set(${include_dir_var} "${_lib_dir}/include" PARENT_SCOPE)
endfunction()
